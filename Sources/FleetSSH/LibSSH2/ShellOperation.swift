import CLibSSH2
import FleetCore

/// One command sent down a host's persistent shell (`RemoteShell`). Created on any thread,
/// then touched only on the reactor thread.
final class ShellRequest: @unchecked Sendable {
    typealias Stop = CommandStop

    let command: RemoteCommand
    let host: String
    let nonce: String
    let text: String
    let mode: RemoteShell.Mode
    var capture: CommandCapture
    var stdoutFrame: RemoteShell.Frame
    var stderrFrame: RemoteShell.Frame
    let started: UInt64
    let timeoutAt: UInt64?
    var stop: Stop?
    /// When a stopped command is given up on (its group was told to end, or could not be).
    var graceAt: UInt64?
    /// The killer was started (the pid was known).
    var killed = false
    /// Set when the shell could not take the command and a channel of its own runs it.
    var fallback: ExecOperation?
    private var completion: ((Result<CommandResult, Error>) -> Void)?

    init(_ command: RemoteCommand, host: String, completion: @escaping (Result<CommandResult, Error>) -> Void) {
        self.command = command
        self.host = host
        let (text, dialog) = BecomeDialog.wrapping(command)
        mode = RemoteShell.Mode(for: text)
        self.text = mode.announcingPid(text)
        capture = CommandCapture(command, host: host, dialog: dialog, announcesPid: false)
        let nonce = RemoteShell.nonce()
        self.nonce = nonce
        stdoutFrame = RemoteShell.Frame(nonce: nonce, announcesPid: true)
        stderrFrame = RemoteShell.Frame(nonce: nonce, announcesPid: false)
        let now = Reactor.now()
        started = now
        timeoutAt = command.timeout.map { now + $0.nanoseconds }
        self.completion = completion
    }

    var deadline: UInt64? { stop == nil ? timeoutAt : graceAt }

    func complete(_ result: Result<CommandResult, Error>) {
        completion?(result)
        completion = nil
    }

    /// Completes with how the command ended: `status` from the end mark, or none when it
    /// never ran or was given up on.
    func finish(status: Int32?) {
        complete(capture.outcome(status: status, signal: nil, stop: stop, started: started))
    }
}

/// A host's persistent shell: one exec channel running `RemoteShell.driver`, taking one
/// command at a time. It greets, then runs what `SSHConnection.runInShell` hands it; when
/// it cannot start (not bash, no greeting in time) the connection marks the host's shell
/// unusable and its commands get a channel each.
// @unchecked Sendable: created and touched only on the reactor thread.
final class ShellOperation: SessionOperation, @unchecked Sendable {
    enum State { case opening, starting, greeting, ready, sending, running, closing, waitingClosed }

    /// How long the driver may take to greet.
    static let greetingTime: UInt64 = 30_000_000_000

    let host: String
    private var channel: OpaquePointer?
    private var state = State.opening
    private var greeting = RemoteShell.Greeting()
    private let greetingDeadline = Reactor.now() + ShellOperation.greetingTime
    private(set) var current: ShellRequest?
    private var request: [UInt8] = []
    private var sent = 0
    private var closeDeadline: UInt64?
    private var ended = false

    init(host: String) { self.host = host }

    /// True when the shell can take `r` now (it runs one command at a time).
    func accept(_ r: ShellRequest) -> Bool {
        guard current == nil, !ended, state != .closing, state != .waitingClosed else { return false }
        current = r
        return true
    }

    var deadline: UInt64? {
        switch state {
        case .opening, .starting, .greeting: return min(greetingDeadline, current?.deadline ?? .max)
        case .ready, .sending, .running: return current?.deadline
        case .closing, .waitingClosed: return closeDeadline
        }
    }

    func timeUp(now: UInt64, _ c: SSHConnection) {
        switch state {
        case .opening, .starting, .greeting:
            if let r = current, let d = r.deadline, now >= d, r.stop == nil {
                // Never sent: it ends here without having run.
                r.stop = .timeout
                current = nil
                r.finish(status: nil)
            }
            if now >= greetingDeadline { giveUp(c, usable: false) }
        case .ready, .sending, .running:
            guard let r = current, let d = r.deadline, now >= d else { return }
            if r.stop == nil {
                r.stop = .timeout
                r.graceAt = now + ExecOperation.grace
                killIfKnown(r, c)
            } else {
                // The stopped command did not end within the grace: give up on it and on
                // this shell (the host's next command gets a new one).
                current = nil
                r.finish(status: nil)
                giveUp(c, usable: true)
            }
        case .closing, .waitingClosed:
            if let d = closeDeadline, now >= d { release(c) }
        }
    }

    /// Ends `r`: before it was sent, at once; once sent, by killing its group.
    func cancel(_ r: ShellRequest, _ c: SSHConnection) {
        guard r === current else { return }
        if r.stop == nil || r.stop == .timeout {
            r.stop = .cancel
            r.graceAt = Reactor.now() + (r.killed ? 0 : ExecOperation.grace)
        }
        if state != .sending && state != .running {
            // Not sent yet (a half-sent request is always finished: the driver reads it whole).
            current = nil
            r.finish(status: nil)
            return
        }
        killIfKnown(r, c)
    }

    /// The shell itself is never cancelled; a cancelled command is (`cancel(_:_:)`).
    func cancel(_ c: SSHConnection) {}

    func abort(_ error: RemoteError, _ c: SSHConnection) {
        channel = nil  // freed with the session
        ended = true
        current?.complete(.failure(error))
        current = nil
    }

    /// TERM to the command's process group from a channel of its own, once its pid is known.
    private func killIfKnown(_ r: ShellRequest, _ c: SSHConnection) {
        guard !r.killed, let pid = r.stdoutFrame.pid else { return }
        r.killed = true
        let kill = RemoteCommand(RemoteScript.killGroup(pid), timeout: .seconds(5), become: r.command.become)
        c.add(ExecOperation(kill, host: host, announcePid: false) { _ in })
    }

    /// Stops using this shell: the connection forgets it (`usable: false`, never again on
    /// this host) and its channel is closed.
    private func giveUp(_ c: SSHConnection, usable: Bool) {
        guard !ended else { return }
        ended = true
        let waiting = current
        current = nil
        c.shellEnded(self, usable: usable, waiting: waiting)
        if channel == nil {
            state = .waitingClosed
            closeDeadline = 0
        } else {
            state = .closing
            closeDeadline = Reactor.now() + ExecOperation.grace
        }
    }

    private func release(_ c: SSHConnection) {
        if let ch = channel { libssh2_channel_free(ch) }
        channel = nil
        state = .waitingClosed
        closeDeadline = nil
        ended = true
    }

    func advance(_ c: SSHConnection) -> OpStep {
        guard c.session != nil else { return .finished }
        switch state {
        case .opening:
            switch c.openSessionChannel(for: self) {
            case .waiting: return .blocked
            case .failed(let rc):
                if LibSSH2.isTransportFailure(rc) { _ = c.transportFailed(rc, while: "opening the persistent shell") }
                giveUp(c, usable: false)
            case .opened(let ch):
                channel = ch
                state = .starting
            }
            return .progressed
        case .starting:
            let rc = fleet_channel_exec(channel, RemoteShell.driver, UInt32(RemoteShell.driver.utf8.count))
            if LibSSH2.isAgain(rc) { return .blocked }
            c.releaseRequestSlot(self)
            guard rc == 0 else {
                if LibSSH2.isTransportFailure(rc) { _ = c.transportFailed(rc, while: "starting the persistent shell") }
                giveUp(c, usable: false)
                return .progressed
            }
            state = .greeting
            return .progressed
        case .greeting:
            var step = OpStep.blocked
            var eof = false
            _ = read(c, progressed: &step, eof: &eof) { bytes, isStdout in
                isStdout ? self.greeting.consume(bytes) : false
            }
            if c.hasTransportError { return .blocked }
            if greeting.done {
                state = .ready
                return .progressed
            }
            if eof { giveUp(c, usable: false) }
            return step
        case .ready:
            guard let r = current else {
                // Idle: what arrives (a background process of an earlier command) is dropped.
                var step = OpStep.blocked
                var eof = false
                _ = read(c, progressed: &step, eof: &eof) { _, _ in false }
                if c.hasTransportError { return .blocked }
                if eof { giveUp(c, usable: true) }
                return step
            }
            request = RemoteShell.request(r.text, nonce: r.nonce, mode: r.mode)
            sent = 0
            state = .sending
            return .progressed
        case .sending:
            let readStep = runRead(c)
            if c.hasTransportError || state != .sending { return readStep == .blocked ? .blocked : .progressed }
            let n = request.withUnsafeBytes { buf in
                libssh2_channel_write_ex(
                    channel, 0, buf.baseAddress!.advanced(by: sent).assumingMemoryBound(to: CChar.self), buf.count - sent)
            }
            if LibSSH2.isAgain(n) { return readStep }
            guard n >= 0 else {
                if LibSSH2.isTransportFailure(Int32(n)) {
                    _ = c.transportFailed(Int32(n), while: "sending a command to the persistent shell")
                }
                lost(c, "sending `\(current?.command.display ?? "")` to the persistent shell: \(c.lastErrorMessage())")
                return .progressed
            }
            sent += n
            if sent >= request.count {
                request = []
                state = .running
            }
            return .progressed
        case .running:
            let step = runRead(c)
            if c.hasTransportError { return .blocked }
            return step
        case .closing:
            guard let ch = channel else { return .finished }
            let rc = libssh2_channel_close(ch)
            if LibSSH2.isAgain(rc) { return .blocked }
            state = .waitingClosed
            return .progressed
        case .waitingClosed:
            guard let ch = channel else { return .finished }
            var step = OpStep.blocked
            var eof = false
            _ = read(c, progressed: &step, eof: &eof) { _, _ in false }
            if c.hasTransportError { return .blocked }
            let rc = libssh2_channel_wait_closed(ch)
            if LibSSH2.isAgain(rc) { return step }
            release(c)
            return .finished
        }
    }

    /// Reads for the command under way (sending or running): its frames, its output, its end.
    private func runRead(_ c: SSHConnection) -> OpStep {
        guard let r = current else { return .blocked }
        var step = OpStep.blocked
        var eof = false
        _ = read(c, progressed: &step, eof: &eof) { bytes, isStdout in
            if isStdout {
                let own = r.stdoutFrame.consume(bytes)
                if !own.isEmpty { r.capture.receiveStdout(own) }
            } else {
                let own = r.stderrFrame.consume(bytes)
                if !own.isEmpty { r.capture.receiveStderr(own) }
            }
            if r.stop != nil { self.killIfKnown(r, c) }
            return r.stdoutFrame.ended && r.stderrFrame.ended
        }
        if c.hasTransportError { return .blocked }
        if r.stdoutFrame.ended && r.stderrFrame.ended {
            current = nil
            state = .ready
            r.finish(status: Int32(r.stdoutFrame.trailer))
            // A builtin run in the shell itself was killed through the shell's own group:
            // a kill still on its way would end the shell under the next command.
            if r.killed && r.mode == .shell { giveUp(c, usable: true) }
            return .progressed
        }
        if eof {
            lost(c, "the persistent shell ended while `\(r.command.display)` ran")
            return .progressed
        }
        return step
    }

    /// The driver is gone mid-command: the command's outcome is unknown.
    private func lost(_ c: SSHConnection, _ why: String) {
        guard let r = current else { return }
        current = nil
        if r.stop != nil {
            r.finish(status: nil)
        } else {
            r.complete(.failure(RemoteError(.channelFailed, host: host, why)))
        }
        giveUp(c, usable: true)
    }

    /// Drains both streams into `body` (bytes, true for stdout) until it returns true or
    /// nothing is left; `eof` when either stream ended.
    private func read(
        _ c: SSHConnection, progressed step: inout OpStep, eof: inout Bool,
        _ body: (UnsafeRawBufferPointer, Bool) -> Bool
    ) -> Bool {
        guard let ch = channel else { return false }
        for stream: Int32 in [0, SSH_EXTENDED_DATA_STDERR] {
            reading: while true {
                switch c.read(ch, stream: stream, while: "reading the persistent shell") {
                case .again:
                    break reading
                case .failed:
                    eof = true
                    step = .progressed
                    return false
                case .ended:
                    eof = true
                    step = .progressed
                    break reading
                case .bytes(let bytes):
                    step = .progressed
                    if body(bytes, stream == 0) { return true }
                }
            }
        }
        if libssh2_channel_eof(ch) != 0 { eof = true }
        return false
    }
}
