import CLibSSH2
import FleetCore
import Foundation

/// A direct-tcpip channel of a jump host's session spliced to one end of a socketpair.
/// The other end is the socket of the connection to the host behind the jump host: its
/// libssh2 session speaks to it as it would over TCP, and its bytes travel inside the jump
/// host's connection. Both directions go through fixed buffers, so a call libssh2 left
/// half-done is always repeated with the same pointer and length, as it requires.
// @unchecked Sendable: created on any thread, then touched only on the reactor thread.
final class BridgeOperation: SessionOperation, ReactorHandler, @unchecked Sendable {
    enum State { case opening, open, closing, closed }

    static let bufferSize = 32 * 1024

    let target: String
    let port: Int
    /// The jump host, for messages.
    private let jump: String
    /// Our end of the socketpair (non-blocking); -1 once closed.
    private var fd: Int32
    private var state = State.opening
    private var channel: OpaquePointer?
    private unowned(unsafe) var connection: SSHConnection?
    private var opened: ((Result<Void, Error>) -> Void)?
    /// Bytes from the socket, on their way into the channel (and back out).
    private let up = UnsafeMutableRawBufferPointer.allocate(byteCount: BridgeOperation.bufferSize, alignment: 16)
    private var upFilled = 0, upSent = 0
    private let down = UnsafeMutableRawBufferPointer.allocate(byteCount: BridgeOperation.bufferSize, alignment: 16)
    private var downFilled = 0, downSent = 0
    private var socketEOF = false, eofSent = false
    private var channelEOF = false, socketShut = false

    init(target: String, port: Int, jump: String, fd: Int32, opened: @escaping (Result<Void, Error>) -> Void) {
        self.target = target
        self.port = port
        self.jump = jump
        self.fd = fd
        self.opened = opened
    }

    deinit {
        up.deallocate()
        down.deallocate()
    }

    var deadline: UInt64? { nil }
    func timeUp(now: UInt64, _ c: SSHConnection) {}

    func cancel(_ c: SSHConnection) {
        if state == .open { state = .closing }
    }

    /// The jump host's connection is gone: closing our end makes the session behind it see
    /// its connection end.
    func abort(_ error: RemoteError, _ c: SSHConnection) {
        channel = nil  // freed with the session
        finishOpen(.failure(error))
        closeSocket(c)
        state = .closed
    }

    // MARK: ReactorHandler (our socket)

    func socketReady(readable: Bool, writable: Bool, failed: Bool) { connection?.drive() }
    var nextDeadline: UInt64? { nil }
    func deadlinePassed(now: UInt64) {}

    // MARK: driving

    func advance(_ c: SSHConnection) -> OpStep {
        guard let s = c.session else { return .blocked }
        switch state {
        case .opening:
            let ch: OpaquePointer
            switch c.openDirectTCPIP(for: self, s, target: target, port: port) {
            case .blocked:
                return .blocked
            case .opened(let opened):
                ch = opened
            case .refused(let why):
                return failOpen(c, RemoteError(.unreachable, host: jump, "jump host \(jump) could not reach \(target):\(port): \(why)"))
            case .failed(let error):
                return failOpen(c, error)
            }
            channel = ch
            connection = c
            c.reactor.register(fd, self, readable: true, writable: false)
            state = .open
            finishOpen(.success(()))
            return .progressed
        case .open:
            return pump(c)
        case .closing:
            if let ch = channel {
                let rc = libssh2_channel_close(ch)
                if LibSSH2.isAgain(rc) { return .blocked }
                libssh2_channel_free(ch)
                channel = nil
            }
            closeSocket(c)
            state = .closed
            return .finished
        case .closed:
            return .finished
        }
    }

    /// Moves bytes both ways as far as the channel window and the socket allow.
    private func pump(_ c: SSHConnection) -> OpStep {
        var moved = false
        // Socket -> channel. A write libssh2 left half-done is repeated before anything else.
        if upSent == upFilled && !socketEOF && !c.owesPendingCall(self) {
            let n = read(fd, up.baseAddress, up.count)
            if n > 0 {
                upFilled = n; upSent = 0; moved = true
            } else if n == 0 {
                socketEOF = true; moved = true
            } else if errno != EAGAIN && errno != EINTR {
                socketEOF = true; moved = true
            }
        }
        while upSent < upFilled {
            let n = libssh2_channel_write_ex(
                channel, 0, (up.baseAddress! + upSent).assumingMemoryBound(to: CChar.self),
                upFilled - upSent)
            if LibSSH2.isAgain(n) { break }
            guard n >= 0 else { return broken(c, Int32(n), "writing to the tunnel") }
            upSent += n
            moved = true
            if upSent == upFilled { upSent = 0; upFilled = 0; break }
        }
        if socketEOF && upFilled == 0 && !eofSent {
            let rc = libssh2_channel_send_eof(channel)
            if rc == 0 { eofSent = true; moved = true } else if !LibSSH2.isAgain(rc) { return broken(c, rc, "closing the tunnel") }
        }
        // Channel -> socket.
        if downSent == downFilled && !channelEOF && !c.owesPendingCall(self) {
            let n = libssh2_channel_read_ex(channel, 0, down.baseAddress?.assumingMemoryBound(to: CChar.self), down.count)
            if n > 0 {
                downFilled = n; downSent = 0; moved = true
            } else if n == 0 && libssh2_channel_eof(channel) != 0 {
                channelEOF = true; moved = true
            } else if n < 0 && !LibSSH2.isAgain(n) {
                return broken(c, Int32(n), "reading from the tunnel")
            }
        }
        while downSent < downFilled {
            let n = write(fd, down.baseAddress! + downSent, downFilled - downSent)
            if n < 0 && (errno == EAGAIN || errno == EINTR) { break }
            // The session behind us closed its socket: nothing more to deliver.
            guard n > 0 else { channelEOF = true; downFilled = 0; downSent = 0; break }
            downSent += n
            moved = true
            if downSent == downFilled { downSent = 0; downFilled = 0 }
        }
        if channelEOF && downFilled == 0 && !socketShut {
            shutdown(fd, Int32(SHUT_WR))
            socketShut = true
        }
        if socketEOF && eofSent && channelEOF && downFilled == 0 {
            state = .closing
            return .progressed
        }
        // Watch the socket for what we can take: room to read into, bytes waiting to go out.
        c.reactor.update(fd, readable: upFilled == 0 && !socketEOF, writable: downFilled > downSent)
        return moved ? .progressed : .blocked
    }

    private func broken(_ c: SSHConnection, _ rc: Int32, _ what: String) -> OpStep {
        if LibSSH2.isTransportFailure(rc) {
            _ = c.transportFailed(rc, while: what)
            return .blocked  // the teardown that follows aborts us
        }
        state = .closing
        return .progressed
    }

    private func failOpen(_ c: SSHConnection, _ error: RemoteError) -> OpStep {
        finishOpen(.failure(error))
        closeSocket(c)
        state = .closed
        return .finished
    }

    private func finishOpen(_ result: Result<Void, Error>) {
        opened?(result)
        opened = nil
    }

    private func closeSocket(_ c: SSHConnection) {
        guard fd >= 0 else { return }
        c.reactor.unregister(fd)
        Glibc.close(fd)
        fd = -1
    }
}
