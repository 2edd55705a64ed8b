import CLibSSH2
import FleetCore

/// A direct-tcpip channel: the host connects to `target:port` on our behalf and the
/// bytes flow through the SSH connection (health probes reach ports that are not exposed).
// @unchecked Sendable: created on any thread, then touched only on the reactor thread.
final class TunnelOperation: SessionOperation, @unchecked Sendable {
    enum State { case opening, open, closing, closed }

    /// Reading stops (and the channel window closes) past this many unread bytes.
    static let maxBuffered = 256 * 1024

    let target: String
    let port: Int
    private let host: String
    private var channel: OpaquePointer?
    private var state = State.opening
    private var opened: ((Result<TunnelOperation, Error>) -> Void)?
    private var inbound: [UInt8] = []
    private var remoteEOF = false
    private var reader: ((Result<[UInt8]?, Error>) -> Void)?
    private var writes: [(bytes: [UInt8], offset: Int, done: (Result<Void, Error>) -> Void)] = []
    private var failure: Error?

    init(target: String, port: Int, host: String, opened: @escaping (Result<TunnelOperation, Error>) -> Void) {
        self.target = target
        self.port = port
        self.host = host
        self.opened = opened
    }

    var deadline: UInt64? { nil }
    func timeUp(now: UInt64, _ c: SSHConnection) {}

    func cancel(_ c: SSHConnection) {
        end(RemoteError(.cancelled, host: host, "the tunnel to \(target):\(port) was closed"))
    }

    func abort(_ error: RemoteError, _ c: SSHConnection) {
        channel = nil
        end(error)
        state = .closed
    }

    // MARK: requests (reactor thread)

    func read(_ done: @escaping (Result<[UInt8]?, Error>) -> Void) {
        if let failure { return done(.failure(failure)) }
        if !inbound.isEmpty {
            let bytes = inbound
            inbound.removeAll(keepingCapacity: true)
            return done(.success(bytes))
        }
        if remoteEOF { return done(.success(nil)) }
        reader = done
    }

    func write(_ bytes: [UInt8], _ done: @escaping (Result<Void, Error>) -> Void) {
        if let failure { return done(.failure(failure)) }
        writes.append((bytes, 0, done))
    }

    func close() {
        if state == .opening || state == .open { state = .closing }
    }

    // MARK: driving

    func advance(_ c: SSHConnection) -> OpStep {
        guard let s = c.session else { return .blocked }
        switch state {
        case .opening:
            // An open in progress must complete before the channel can be dropped.
            if failure != nil && !c.holdsRequestSlot(self) { state = .closed; return .finished }
            switch c.openDirectTCPIP(for: self, s, target: target, port: port) {
            case .blocked:
                return .blocked
            case .refused(let why):
                end(RemoteError(.channelFailed, host: host, "the host could not open a tunnel to \(target):\(port): \(why)"))
                state = .closed
                return .finished
            case .failed(let error):
                end(error)
                state = .closed
                return .finished
            case .opened(let ch):
                channel = ch
            }
            state = failure == nil ? .open : .closing
            opened?(.success(self))
            opened = nil
            return .progressed
        case .open:
            return pump(c)
        case .closing:
            let rc = libssh2_channel_close(channel)
            if LibSSH2.isAgain(rc) { return .blocked }
            libssh2_channel_free(channel)
            channel = nil
            state = .closed
            end(RemoteError(.cancelled, host: host, "the tunnel to \(target):\(port) is closed"))
            return .finished
        case .closed:
            return .finished
        }
    }

    /// Moves bytes both ways as far as the window and socket allow.
    private func pump(_ c: SSHConnection) -> OpStep {
        var step = OpStep.blocked
        while let first = writes.first {
            let n = first.bytes.withUnsafeBytes { buf in
                libssh2_channel_write_ex(
                    channel, 0,
                    buf.baseAddress!.advanced(by: first.offset)
                        .assumingMemoryBound(to: CChar.self), buf.count - first.offset)
            }
            if LibSSH2.isAgain(n) { break }
            guard n >= 0 else { return broken(c, Int32(n), "writing to the tunnel") }
            step = .progressed
            writes[0].offset += n
            if writes[0].offset >= first.bytes.count { writes.removeFirst().done(.success(())) }
        }
        while !remoteEOF && inbound.count < TunnelOperation.maxBuffered {
            let n = libssh2_channel_read_ex(
                channel, 0, c.scratch.baseAddress?.assumingMemoryBound(to: CChar.self),
                c.scratch.count)
            if LibSSH2.isAgain(n) { break }
            guard n >= 0 else { return broken(c, Int32(n), "reading from the tunnel") }
            step = .progressed
            if n == 0 {
                remoteEOF = true
            } else {
                inbound.append(contentsOf: UnsafeRawBufferPointer(start: c.scratch.baseAddress, count: n))
            }
        }
        if let r = reader, !inbound.isEmpty || remoteEOF {
            reader = nil
            read(r)
        }
        return step
    }

    private func broken(_ c: SSHConnection, _ rc: Int32, _ what: String) -> OpStep {
        let error =
            LibSSH2.isTransportFailure(rc)
            ? c.transportFailed(rc, while: what)
            : RemoteError(.channelFailed, host: host, "\(what) \(target):\(port): \(c.lastErrorMessage())")
        end(error)
        state = .closing
        return .progressed
    }

    /// Fails every waiter with `error` (once).
    private func end(_ error: Error) {
        if failure == nil { failure = error }
        opened?(.failure(error))
        opened = nil
        reader?(.failure(error))
        reader = nil
        for w in writes { w.done(.failure(error)) }
        writes.removeAll()
        if state == .open || state == .opening, channel != nil { state = .closing }
    }
}

/// How a step of opening a direct-tcpip channel went.
enum DirectTCPIPOpen {
    case blocked
    case opened(OpaquePointer)
    /// The server refused it (the target is closed, forwarding is off): in libssh2's words.
    case refused(String)
    /// The transport is gone.
    case failed(RemoteError)
}

extension SSHConnection {
    /// One step of opening a direct-tcpip channel to `target:port` for `op`, which holds the
    /// session's request slot until the open is answered (tunnels and jump-host bridges).
    func openDirectTCPIP(for op: SessionOperation, _ s: OpaquePointer, target: String, port: Int) -> DirectTCPIPOpen {
        guard acquireRequestSlot(op) else { return .blocked }
        guard let ch = libssh2_channel_direct_tcpip_ex(s, target, Int32(port), "127.0.0.1", 0) else {
            let rc = libssh2_session_last_errno(s)
            if LibSSH2.isAgain(rc) { return .blocked }
            releaseRequestSlot(op)
            if LibSSH2.isTransportFailure(rc) { return .failed(transportFailed(rc, while: "opening a tunnel to \(target):\(port)")) }
            return .refused(lastErrorMessage())
        }
        releaseRequestSlot(op)
        return .opened(ch)
    }
}
