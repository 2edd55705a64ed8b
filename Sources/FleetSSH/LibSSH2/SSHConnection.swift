import CLibSSH2
import FleetCore
import Foundation
import Synchronization

/// How far an operation got in one call.
enum OpStep {
    /// Nothing more can happen until the socket is ready or time passes.
    case blocked
    /// Something happened (bytes moved, a state changed): call again.
    case progressed
    /// Done; its waiter has been resumed.
    case finished
}

/// A channel-level job on a connection (a command, a tunnel, an upload), advanced by the
/// reactor until it finishes. All methods run on the reactor thread.
protocol SessionOperation: AnyObject, Sendable {
    /// Does as much as libssh2 allows without blocking.
    func advance(_ c: SSHConnection) -> OpStep
    /// The connection is gone: release the channel and resume the waiter with `error`.
    func abort(_ error: RemoteError, _ c: SSHConnection)
    /// When `timeUp` must be called (monotonic ns), if ever.
    var deadline: UInt64? { get }
    func timeUp(now: UInt64, _ c: SSHConnection)
    /// Ends the operation early (second Ctrl-C, task cancellation): remote work is stopped
    /// and the waiter gets `RemoteError.cancelled`.
    func cancel(_ c: SSHConnection)
}

/// A connection setup failure, and whether trying again may help (refused, no banner).
struct SetupFailure: Error {
    var error: RemoteError
    var retryable: Bool
}

/// One SSH connection: a non-blocking libssh2 session owned by the reactor thread.
/// Every stored property below `reactor` is touched only on that thread, which is why the
/// class can be `@unchecked Sendable`; other threads reach it only through `reactor.submit`.
final class SSHConnection: ReactorHandler, @unchecked Sendable {
    enum Phase { case idle, connecting, handshaking, authenticating, ready, closed }

    let plan: ConnectPlan
    let reactor: Reactor
    /// Set once the transport failed or the connection was closed; read from any thread.
    private let brokenFlag = Atomic<Bool>(false)

    var session: OpaquePointer?
    var fd: Int32 = -1
    var phase: Phase = .idle
    private var ops: [SessionOperation] = []
    /// The operation whose call left a packet half-sent. libssh2 1.10 answers any other
    /// packet with LIBSSH2_ERROR_BAD_USE until that same call completes, so nothing else
    /// may touch the session meanwhile.
    private var outboundOwner: SessionOperation? {
        didSet { if outboundOwner == nil { stallDeadline = nil } }
    }
    /// Set when the outbound owner's deadline passed while its packet was still half-sent
    /// (the host is not reading): if the packet is still stuck then, the host has stopped
    /// responding and the connection is torn down. Without it the reactor would wake for
    /// the passed deadline over and over.
    private var stallDeadline: UInt64?
    /// One channel open or channel request (exec, subsystem) at a time per session:
    /// libssh2 1.10 keeps open state in the session, and while waiting for a request's
    /// reply it takes another channel's CHANNEL_SUCCESS for its own failure
    /// (`_libssh2_packet_requirev` matches the type, then misses the channel id).
    private var requestSlotOwner: SessionOperation?
    var setupDeadline: UInt64 = 0
    var setupWaiter: CheckedContinuation<ConnectionInfo, Error>?
    let startedAt = Reactor.now()
    var auth = AuthProgress()
    var hostKey: (type: String, fingerprint: String) = ("", "")
    /// Set by operations when libssh2 reports the transport gone.
    private var transportError: RemoteError?
    private var driving = false
    /// The host's persistent shell (`RemoteShell`), once a command asked for it.
    private var shell: ShellOperation?
    /// Set when the host's login shell cannot run the persistent shell: every command then
    /// gets a channel of its own.
    private var shellUnusable = false

    /// What the receive callback counts for this session (see shim.h); outlives the session.
    let stats: UnsafeMutablePointer<fleet_session_stats> = {
        let p = UnsafeMutablePointer<fleet_session_stats>.allocate(capacity: 1)
        p.initialize(to: fleet_session_stats(bytes_in: 0, last_in_ns: 0, quickack: 0, drained: 0))
        return p
    }()
    /// Keepalives (ServerAlive); nil when off. The gate is libssh2's own rule for sending.
    private var keepalive: KeepaliveTimer?
    private var keepaliveGate = LibSSH2KeepaliveGate()

    init(plan: ConnectPlan, reactor: Reactor) {
        self.plan = plan
        self.reactor = reactor
    }

    deinit { stats.deallocate() }

    var isBroken: Bool { brokenFlag.load(ordering: .acquiring) }

    // MARK: - async API (any thread)

    /// Connects, checks the host key and authenticates.
    func start() async throws -> ConnectionInfo {
        try await withCheckedThrowingContinuation { continuation in
            reactor.submit { self.begin(continuation) }
        }
    }

    /// Adds an operation and drives it; the operation resumes its own waiter.
    func enqueue(_ op: SessionOperation) {
        reactor.submit {
            if let error = self.closedError { return op.abort(error, self) }
            self.noteNewWork()
            self.ops.append(op)
            self.drive()
        }
    }

    /// Why work handed to this connection now cannot run; nil while it is ready.
    private var closedError: RemoteError? {
        guard phase != .ready || isBroken else { return nil }
        return transportError ?? RemoteError(.connectionLost, host: plan.hostName, "the connection is closed")
    }

    /// A command on an idle session: take note of what waited in the socket before libssh2
    /// reads it, or its read time would pass for its arrival (KeepaliveTimer).
    private func noteNewWork() {
        if ops.isEmpty { keepalive?.observe(now: Reactor.now(), traffic: traffic()) }
    }

    /// Cancels an operation from another thread.
    func cancel(_ op: SessionOperation) {
        reactor.submit {
            guard self.ops.contains(where: { $0 === op }) else { return }
            op.cancel(self)
            self.drive()
        }
    }

    /// Disconnects politely (best effort) and frees the session.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            reactor.submit {
                self.teardown(
                    RemoteError(.connectionLost, host: self.plan.hostName, "the connection was closed by fleetup"),
                    polite: true)
                continuation.resume()
            }
        }
    }

    // MARK: - operation support (reactor thread)

    /// Adds an operation from the reactor thread (an operation starting a helper).
    func add(_ op: SessionOperation) {
        ops.append(op)
    }

    // MARK: - the persistent shell (reactor thread)

    /// Hands `r` to the host's shell, starting it on first use; a command the shell cannot
    /// take now (it runs another, or it is unusable on this host) gets a channel of its own.
    func submit(_ r: ShellRequest) {
        if let error = closedError { return r.complete(.failure(error)) }
        noteNewWork()
        if !shellUnusable {
            if shell == nil {
                let s = ShellOperation(host: plan.hostName)
                shell = s
                ops.append(s)
            }
            if shell!.accept(r) { return drive() }
        }
        runAlone(r)
    }

    /// Runs `r` in a channel of its own.
    private func runAlone(_ r: ShellRequest) {
        let op = ExecOperation(r.command, host: plan.hostName) { r.complete($0) }
        r.fallback = op
        ops.append(op)
        drive()
    }

    /// Ends `r` early (its task was cancelled).
    func cancel(_ r: ShellRequest) {
        if let op = r.fallback {
            if ops.contains(where: { $0 === op }) { op.cancel(self) }
        } else {
            shell?.cancel(r, self)
        }
        drive()
    }

    /// The shell stopped: forget it (and never start another on this host when it could not
    /// start at all); a command it had not sent yet gets a channel of its own.
    func shellEnded(_ s: ShellOperation, usable: Bool, waiting: ShellRequest?) {
        if shell === s { shell = nil }
        if !usable { shellUnusable = true }
        if let waiting { runAlone(waiting) }
    }

    /// Takes the session's single open/request slot, if free.
    func acquireRequestSlot(_ op: SessionOperation) -> Bool {
        if requestSlotOwner == nil { requestSlotOwner = op }
        return requestSlotOwner === op
    }

    enum ChannelOpen {
        case waiting
        case opened(OpaquePointer)
        case failed(Int32)
    }

    /// Opens a session channel for `op` under the session's one request slot, which `op`
    /// keeps once the channel is open: the exec request that follows needs it too.
    func openSessionChannel(for op: SessionOperation) -> ChannelOpen {
        guard let s = session, acquireRequestSlot(op) else { return .waiting }
        guard let ch = fleet_channel_open_session(s) else {
            let rc = libssh2_session_last_errno(s)
            if LibSSH2.isAgain(rc) { return .waiting }
            releaseRequestSlot(op)
            return .failed(rc)
        }
        return .opened(ch)
    }

    func releaseRequestSlot(_ op: SessionOperation) {
        if requestSlotOwner === op { requestSlotOwner = nil }
    }

    func holdsRequestSlot(_ op: SessionOperation) -> Bool { requestSlotOwner === op }

    /// True while `op` left a packet half-sent: it must repeat that same call first.
    func owesPendingCall(_ op: SessionOperation) -> Bool { outboundOwner === op }

    var hasTransportError: Bool { transportError != nil }

    /// The host stopped answering (frozen, or the network between went silent): every
    /// operation fails with `kind` and the next use connects again.
    func hostStoppedResponding(_ why: String, kind: RemoteError.Kind = .connectionLost) {
        teardown(RemoteError(kind, host: plan.hostName, "\(plan.address) stopped responding: \(why)"), polite: false)
    }

    // MARK: - keepalive

    /// Starts ServerAlive-style keepalives once the session is ready (interval 0: off).
    func startKeepalive() {
        guard let s = session, plan.keepaliveInterval > .zero else { return }
        // fleetup's timer decides when to send; libssh2's interval only gates its sends.
        libssh2_keepalive_config(s, 1, UInt32(LibSSH2KeepaliveGate.seconds))
        keepalive = KeepaliveTimer(
            interval: plan.keepaliveInterval, countMax: plan.keepaliveCountMax,
            now: Reactor.now(), traffic: traffic())
    }

    /// What the server sent: what libssh2 read (and when it last read), plus what waits
    /// unread in the socket (an idle session does not read; answers to keepalives wait there).
    private func traffic() -> KeepaliveTimer.Traffic {
        KeepaliveTimer.Traffic(
            read: stats.pointee.bytes_in, lastReadAt: stats.pointee.last_in_ns,
            pending: UInt64(max(0, fleet_bytes_pending(fd))))
    }

    /// As OpenSSH's ServerAlive (KeepaliveTimer): an interval after the server was last heard
    /// from, send a keepalive that asks for an answer; the look after `keepaliveCountMax` of
    /// them unanswered gives the host up (counted unreachable).
    private func keepaliveTick(_ now: UInt64) {
        guard var timer = keepalive else { return }
        // libssh2 reads time(), which may lag the precise clock (glibc: the coarse one): the
        // gate is judged by time() itself, the fraction of the second only estimated.
        let second = time(nil)
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &wall)
        let sendable = keepaliveGate.sendableAt(now: now, second: second, nanosecond: wall.tv_sec == second ? wall.tv_nsec : 0)
        let action = timer.check(now: now, traffic: traffic(), sendableAt: sendable)
        keepalive = timer
        switch action {
        case .wait: return
        case .giveUp:
            return hostStoppedResponding(
                "no answer to \(timer.unanswered) keepalives (ServerAliveInterval "
                    + "\(plan.keepaliveInterval.messageText), ServerAliveCountMax \(plan.keepaliveCountMax))",
                kind: .unreachable)
        case .send: break
        }
        // Never while a packet is half-sent: libssh2 would take the keepalive for it. A host
        // that takes none of our packets counts it as unanswered all the same.
        guard let s = session, outboundOwner == nil,
            libssh2_session_block_directions(s) & LIBSSH2_SESSION_BLOCK_OUTBOUND == 0
        else { return }
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(s, &next)
        keepaliveGate.sent(second: time(nil))
        if rc != 0 && !LibSSH2.isAgain(rc) && LibSSH2.isTransportFailure(rc) {
            teardown(transportFailed(rc, while: "sending a keepalive"), polite: false)
        }
    }

    /// Records that the transport is gone (the drive loop then fails every operation).
    func transportFailed(_ rc: Int32, while doing: String) -> RemoteError {
        let (code, message) = session.map(LibSSH2.lastError) ?? (rc, "error \(rc)")
        let error = RemoteError(
            .connectionLost, host: plan.hostName,
            "connection to \(plan.address) lost: \(message) (\(LibSSH2.errorName(code == 0 ? rc : code)); \(doing))")
        if transportError == nil { transportError = error }
        return error
    }

    /// libssh2's message for the last error, for operation failures.
    func lastErrorMessage() -> String {
        guard let session else { return "no session" }
        let (code, message) = LibSSH2.lastError(session)
        return "\(message) (\(LibSSH2.errorName(code)))"
    }

    /// The reactor's scratch buffer for reads (reactor thread only).
    var scratch: UnsafeMutableRawBufferPointer { reactor.scratch }

    enum ChannelRead {
        /// Nothing to read now.
        case again
        /// Bytes in the scratch buffer, valid until the next read.
        case bytes(UnsafeRawBufferPointer)
        /// The stream has ended.
        case ended
        /// The read failed: the transport (then recorded, `hasTransportError`) or the channel.
        case failed
    }

    /// One read of `channel`'s `stream` (0: stdout) into the scratch buffer.
    func read(_ channel: OpaquePointer?, stream: Int32, while doing: String) -> ChannelRead {
        let n = libssh2_channel_read_ex(channel, stream, scratch.baseAddress?.assumingMemoryBound(to: CChar.self), scratch.count)
        if LibSSH2.isAgain(n) { return .again }
        if n < 0 {
            if LibSSH2.isTransportFailure(Int32(n)) { _ = transportFailed(Int32(n), while: doing) }
            return .failed
        }
        return n == 0 ? .ended : .bytes(UnsafeRawBufferPointer(start: scratch.baseAddress, count: n))
    }

    // MARK: - ReactorHandler

    func socketReady(readable: Bool, writable: Bool, failed: Bool) {
        // Something to read (or a close to see): the next recv asks the kernel again.
        if readable || failed { stats.pointee.drained = 0 }
        if phase == .connecting {
            finishTCPConnect()
        } else if phase == .ready && ops.isEmpty && failed {
            // Closed by the host while idle (sshd restarted, an idle timeout): mark the
            // connection broken now, so its next use reconnects instead of failing.
            teardown(
                RemoteError(.connectionLost, host: plan.hostName, "\(plan.address) closed the idle connection"),
                polite: false)
        } else {
            drive()
        }
    }

    var nextDeadline: UInt64? {
        switch phase {
        case .connecting, .handshaking, .authenticating: return setupDeadline
        case .ready:
            // Asked on every turn of the reactor's loop: no allocation here.
            var earliest = min(stallDeadline ?? .max, keepalive?.nextCheck ?? .max)
            for op in ops where !(op === outboundOwner && stallDeadline != nil) {
                if let d = op.deadline, d < earliest { earliest = d }
            }
            return earliest == .max ? nil : earliest
        case .idle, .closed: return nil
        }
    }

    func deadlinePassed(now: UInt64) {
        switch phase {
        case .connecting, .handshaking, .authenticating:
            guard now >= setupDeadline else { return drive() }
            let stage = phase == .connecting ? "TCP connect" : phase == .handshaking ? "SSH handshake" : "authentication"
            failSetup(
                RemoteError(
                    .connectTimeout, host: plan.hostName,
                    "\(stage) to \(plan.address) did not finish within \(plan.connectTimeout.messageText)"),
                retryable: false)
        case .ready:
            if let k = keepalive?.nextCheck, now >= k {
                keepaliveTick(now)
                guard phase == .ready else { return }
            }
            if let owner = outboundOwner, (owner.deadline ?? .max) <= now {
                // Its time is up but it must repeat its half-sent call first: wait one grace.
                if stallDeadline == nil { stallDeadline = now + ExecOperation.grace }
                if now >= stallDeadline! {
                    return hostStoppedResponding(
                        "a packet to it has been stuck for \(Duration.nanoseconds(ExecOperation.grace).messageText)")
                }
            }
            for op in ops where (op.deadline ?? .max) <= now && op !== outboundOwner {
                guard phase == .ready else { break }  // a timeUp may give up on the host
                op.timeUp(now: now, self)
            }
            if phase == .ready { drive() }
        case .idle, .closed:
            return
        }
    }

    // MARK: - driving

    /// Advances setup or every operation until nothing moves. While an operation owns a
    /// half-sent packet, only it is advanced (see `outboundOwner`).
    func drive() {
        guard !driving else { return }
        driving = true
        defer { driving = false }
        switch phase {
        case .handshaking, .authenticating:
            advanceSetup()
        case .ready:
            driveOperations()
        case .idle, .connecting, .closed:
            break
        }
        updateInterest()
    }

    private func driveOperations() {
        var rounds = 0
        var progressed = true
        while progressed && transportError == nil {
            progressed = false
            rounds += 1
            if rounds > 64 {
                // Stay fair to the reactor's other connections; come back right away.
                reactor.driveAgainSoon(self)
                break
            }
            let snapshot = outboundOwner.map { [$0] } ?? ops
            for op in snapshot {
                if outboundOwner != nil && outboundOwner !== op { break }
                let step = op.advance(self)
                if step != .blocked { progressed = true }
                if step == .finished {
                    ops.removeAll { $0 === op }
                    releaseRequestSlot(op)
                    if outboundOwner === op { outboundOwner = nil }
                } else if let s = session {
                    let outbound = libssh2_session_block_directions(s) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
                    if outbound && step == .blocked {
                        outboundOwner = op
                    } else if outboundOwner === op {
                        outboundOwner = nil
                    }
                }
                if transportError != nil { break }
            }
        }
        if let error = transportError {
            teardown(error, polite: false)
        }
    }

    func updateInterest() {
        guard fd >= 0, let s = session, phase != .closed, phase != .connecting else { return }
        let outbound = libssh2_session_block_directions(s) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
        // An idle session reads nothing: bytes the server sends meanwhile (rare) wait in the
        // socket for the next operation instead of waking the reactor over and over.
        reactor.update(fd, readable: phase != .ready || !ops.isEmpty, writable: outbound)
    }

    /// Fails every operation with `error`, frees the session and closes the socket.
    func teardown(_ error: RemoteError, polite: Bool) {
        guard phase != .closed else { return }
        brokenFlag.store(true, ordering: .releasing)
        phase = .closed
        let pending = ops
        ops.removeAll()
        outboundOwner = nil
        requestSlotOwner = nil
        for op in pending { op.abort(error, self) }
        auth.release()
        if let s = session {
            if polite { _ = libssh2_session_disconnect_ex(s, SSH_DISCONNECT_BY_APPLICATION, "fleetup done", "") }
            // With the socket shut, libssh2's last sends fail at once instead of returning
            // EAGAIN, so freeing never waits on the peer (and never blocks the reactor).
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
            _ = fleet_session_free(s)
            session = nil
        }
        if fd >= 0 {
            reactor.unregister(fd)
            Glibc.close(fd)
            fd = -1
        }
    }
}
