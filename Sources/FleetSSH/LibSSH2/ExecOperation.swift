import CLibSSH2
import FleetCore

/// Runs one command in a new session channel: open, exec, stdin then EOF, read stdout and
/// stderr together until both end (reading one alone can fill the window and deadlock),
/// close, wait for the close, then read exit status and signal (only valid after it).
///
/// On timeout or cancel the command's process group is killed from a second channel
/// (see `RemoteScript`), output is drained for a grace period, then the channel is
/// closed whatever happens.
// @unchecked Sendable: created on any thread, then touched only on the reactor thread.
final class ExecOperation: SessionOperation, @unchecked Sendable {
    /// `becoming`: sudo has the command and may prompt; the command's stdin waits (see
    /// `BecomeDialog`).
    enum State { case opening, starting, becoming, writingStdin, sendingEOF, reading, closing, waitingClosed }
    typealias Stop = CommandStop

    /// How long to wait for the killed command's channel to end before closing it.
    static let grace: UInt64 = 3_000_000_000

    let command: RemoteCommand
    private let script: String
    let host: String
    private var completion: ((Result<CommandResult, Error>) -> Void)?
    private var channel: OpaquePointer?
    private var state = State.opening
    private var stdinOffset = 0
    /// The pid line, the sudo conversation and the two streams' tails.
    private var capture: CommandCapture
    private var stdoutEnded = false
    private var stderrEnded = false
    private let started = Reactor.now()
    private var timeoutAt: UInt64?
    private var graceAt: UInt64?
    private var stop: Stop?
    private var stopApplied = false
    private var done = false
    /// Set when the channel failed mid-read: the command's outcome is then unknown.
    private var readFailure: String?
    /// The password sudo may ask for (a stable buffer: a half-sent write is repeated with
    /// the same pointer).
    private var password: [UInt8] = []
    private var passwordSent = 0

    /// `announcePid: false` for fleetup's own helper commands (the killer).
    init(
        _ command: RemoteCommand, host: String, announcePid: Bool = true,
        completion: @escaping (Result<CommandResult, Error>) -> Void
    ) {
        self.command = command
        let (text, dialog) = BecomeDialog.wrapping(command)
        password = command.become?.password.map { Array($0.reveal().utf8) + [UInt8(ascii: "\n")] } ?? []
        self.script = announcePid ? RemoteScript.announcingPid(text) : text
        self.host = host
        self.completion = completion
        capture = CommandCapture(command, host: host, dialog: dialog, announcesPid: announcePid)
        timeoutAt = command.timeout.map { started + $0.nanoseconds }
    }

    var deadline: UInt64? { stop == nil ? timeoutAt : graceAt }

    func timeUp(now: UInt64, _ c: SSHConnection) {
        guard stop != nil else { return requestStop(.timeout, now: now) }
        guard let g = graceAt, now >= g else { return }
        guard stopApplied else {
            // The stop could not even be delivered (our channel open or exec request never
            // got its answer) within the grace: the host has stopped responding.
            return c.hostStoppedResponding("`\(command.display)` could not be stopped")
        }
        // The grace is over: close without waiting for the command any longer.
        graceAt = now + ExecOperation.grace
        switch state {
        case .becoming, .writingStdin, .sendingEOF, .reading: state = .closing
        case .closing, .waitingClosed:
            // A live host confirms a close in milliseconds; this one did not within the
            // grace: report the command, then give up on the host.
            finish(c, readStatus: false)
            c.hostStoppedResponding(
                "the channel of `\(command.display)` was not closed within \(Duration.nanoseconds(ExecOperation.grace).messageText)")
        case .opening, .starting: break
        }
    }

    func cancel(_ c: SSHConnection) {
        if stop == nil { requestStop(.cancel, now: Reactor.now()) } else { stop = .cancel; graceAt = 0 }
    }

    /// Marks the stop; `advance` applies it as soon as no request of ours is in flight.
    /// The grace bounds how long that may take.
    private func requestStop(_ kind: Stop, now: UInt64) {
        stop = kind
        graceAt = now + ExecOperation.grace
    }

    /// True while our channel open or exec request awaits its answer: libssh2 keeps that
    /// state in the session, so the same call must be repeated until it completes.
    private func awaitingRequest(_ c: SSHConnection) -> Bool {
        (state == .opening || state == .starting) && c.holdsRequestSlot(self)
    }

    func abort(_ error: RemoteError, _ c: SSHConnection) {
        channel = nil  // freed with the session
        done = true
        complete(.failure(error))
    }

    func advance(_ c: SSHConnection) -> OpStep {
        guard c.session != nil, !done else { return .finished }
        if stop != nil && !stopApplied && !c.owesPendingCall(self) && !awaitingRequest(c) {
            // A stop changes state (and may add the killer): either way, drive again.
            return applyStop(c) ? .finished : .progressed
        }
        switch state {
        case .opening:
            switch c.openSessionChannel(for: self) {
            case .waiting: return .blocked
            case .failed(let rc): return fail(c, rc, "cannot open a channel for `\(command.display)`")
            case .opened(let ch):
                channel = ch
                state = .starting
                return .progressed
            }
        case .starting:
            // Still holding the request slot from the open: the exec reply is awaited alone.
            let rc = fleet_channel_exec(channel, script, UInt32(script.utf8.count))
            if LibSSH2.isAgain(rc) { return .blocked }
            c.releaseRequestSlot(self)
            guard rc == 0 else { return fail(c, rc, "the server refused to run `\(command.display)`") }
            state = command.become != nil ? .becoming : command.stdin.isEmpty ? .sendingEOF : .writingStdin
            return .progressed
        case .becoming:
            let step = readOutput(c)
            if c.hasTransportError { return .blocked }
            if capture.passwordDue && passwordSent < password.count {
                let n = password.withUnsafeBytes { buf in
                    libssh2_channel_write_ex(
                        channel, 0,
                        buf.baseAddress!.advanced(by: passwordSent)
                            .assumingMemoryBound(to: CChar.self), buf.count - passwordSent)
                }
                if LibSSH2.isAgain(n) { return step }
                guard n >= 0 else { return fail(c, Int32(n), "answering sudo for `\(command.display)`") }
                passwordSent += n
                return .progressed
            }
            if capture.eofDue { state = .sendingEOF; return .progressed }
            if capture.becomeSucceeded { state = command.stdin.isEmpty ? .sendingEOF : .writingStdin; return .progressed }
            if stdoutEnded && stderrEnded { state = .closing; return .progressed }
            return step
        case .writingStdin:
            let readStep = readOutput(c)
            let n = command.stdin.withUnsafeBytes { buf in
                libssh2_channel_write_ex(
                    channel, 0,
                    buf.baseAddress!.advanced(by: stdinOffset)
                        .assumingMemoryBound(to: CChar.self), buf.count - stdinOffset)
            }
            if LibSSH2.isAgain(n) { return readStep }
            guard n >= 0 else { return fail(c, Int32(n), "writing stdin of `\(command.display)`") }
            stdinOffset += n
            if stdinOffset >= command.stdin.count { state = .sendingEOF }
            return .progressed
        case .sendingEOF:
            let rc = libssh2_channel_send_eof(channel)
            if LibSSH2.isAgain(rc) { return .blocked }
            guard rc == 0 else { return fail(c, rc, "sending EOF to `\(command.display)`") }
            state = .reading
            return .progressed
        case .reading:
            let step = readOutput(c)
            // The transport is gone: stay in the list, so the teardown that follows fails
            // this operation with the connection's error (a `.finished` here would drop
            // it without resuming its waiter, and the caller would wait forever).
            if c.hasTransportError { return .blocked }
            if stdoutEnded && stderrEnded { state = .closing; return .progressed }
            return step
        case .closing:
            let rc = libssh2_channel_close(channel)
            if LibSSH2.isAgain(rc) { return .blocked }
            state = .waitingClosed
            return .progressed
        case .waitingClosed:
            _ = readOutput(c)
            if c.hasTransportError { return .blocked }
            let rc = libssh2_channel_wait_closed(channel)
            if LibSSH2.isAgain(rc) { return .blocked }
            // Without a clean close there is no trustworthy exit status.
            guard rc == 0 else { return fail(c, rc, "waiting for `\(command.display)` to close") }
            finish(c, readStatus: true)
            return .finished
        }
    }

    /// Turns a requested stop into actions; true when the operation ended right here.
    /// Called only when no request of ours is in flight (see `awaitingRequest`).
    private func applyStop(_ c: SSHConnection) -> Bool {
        stopApplied = true
        graceAt = Reactor.now() + ExecOperation.grace
        switch state {
        case .opening:
            finish(c, readStatus: false)
            return true
        case .starting:
            state = .closing
        case .becoming, .writingStdin, .sendingEOF, .reading:
            if let pid = capture.pid {
                // TERM, up to 2 s, then KILL: 5 s is plenty; a host that cannot run it in 5 s is
                // not answering. A become command's processes belong to the become user: the
                // kill goes through sudo too.
                let kill = RemoteCommand(RemoteScript.killGroup(pid), timeout: .seconds(5), become: command.become)
                c.add(ExecOperation(kill, host: host, announcePid: false) { _ in })
            }
            state = .reading
        case .closing, .waitingClosed:
            break
        }
        return false
    }

    /// Drains both streams as far as possible.
    private func readOutput(_ c: SSHConnection) -> OpStep {
        var step = OpStep.blocked
        for stream: Int32 in [0, SSH_EXTENDED_DATA_STDERR] {
            reading: while !(stream == 0 ? stdoutEnded : stderrEnded) {
                switch c.read(channel, stream: stream, while: "reading output") {
                case .again:
                    break reading
                case .failed:
                    if !c.hasTransportError {
                        // A channel-level error: nothing more will come; end both streams
                        // (the close that follows decides the outcome) rather than spin.
                        readFailure = "reading the output of `\(command.display)`: \(c.lastErrorMessage())"
                        stdoutEnded = true
                        stderrEnded = true
                    }
                    return .progressed
                case .ended:
                    step = .progressed
                    if stream == 0 {
                        stdoutEnded = true
                        capture.stdoutEnded()
                    } else {
                        stderrEnded = true
                    }
                case .bytes(let bytes):
                    step = .progressed
                    if stream == 0 { capture.receiveStdout(bytes) } else { capture.receiveStderr(bytes) }
                }
            }
        }
        return step
    }

    private func fail(_ c: SSHConnection, _ rc: Int32, _ what: String) -> OpStep {
        let error =
            LibSSH2.isTransportFailure(rc)
            ? c.transportFailed(rc, while: what)
            : RemoteError(.channelFailed, host: host, "\(what): \(c.lastErrorMessage())")
        if let ch = channel { libssh2_channel_free(ch) }
        channel = nil
        done = true
        complete(.failure(error))
        return .finished
    }

    /// Reads the exit status and signal (valid once closed), frees the channel, completes.
    private func finish(_ c: SSHConnection, readStatus: Bool) {
        var status: Int32?
        var signal: String?
        if let ch = channel, readStatus {
            var sig: UnsafeMutablePointer<CChar>?
            var sigLength = 0
            if libssh2_channel_get_exit_signal(ch, &sig, &sigLength, nil, nil, nil, nil) == 0, let sig {
                signal = String(decoding: UnsafeRawBufferPointer(start: sig, count: sigLength), as: UTF8.self)
                libssh2_free(c.session, sig)
            }
            // A signal-killed command reports status 0 with its signal: no status then.
            status = signal == nil ? libssh2_channel_get_exit_status(ch) : nil
        }
        if let ch = channel { libssh2_channel_free(ch) }
        channel = nil
        done = true
        complete(capture.outcome(status: status, signal: signal, stop: stop, readFailure: readFailure, started: started))
    }

    func complete(_ result: Result<CommandResult, Error>) {
        completion?(result)
        completion = nil
    }
}
