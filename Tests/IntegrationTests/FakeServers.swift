import FleetTestFleet
import Foundation
import Synchronization

/// A TCP listener on 127.0.0.1 that is not an SSH server: it either closes every
/// connection at once (a server without a banner, like sshd past MaxStartups) or holds it
/// open in silence (a hung server). It counts connections, and how many were open at once.
/// Several listeners may share one `Tally`, to count across hosts.
/// POLLRDHUP (Linux: the peer closed its end), which Glibc does not export to Swift.
private let pollRDHUP: Int16 = 0x2000

final class FakeServer: @unchecked Sendable {
    // @unchecked: the socket is immutable after init; counters live in the shared Tally.
    enum Behaviour { case closeAtOnce, holdSilently }

    /// Counts connections over one or more servers. A connection counts as open until
    /// the client closes it; closed ones are found when the next one arrives (the client
    /// closes its socket before it starts the next connection, and on loopback its FIN is
    /// already here when the next SYN is), so the count has no lag.
    final class Tally: Sendable {
        private let state = Mutex<(accepted: Int, open: [Int32], maxOpen: Int)>((0, [], 0))
        var accepted: Int { state.withLock { $0.accepted } }
        var maxOpen: Int { state.withLock { $0.maxOpen } }

        func opened(_ client: Int32) {
            state.withLock { s in
                s.open.removeAll { Tally.closedByPeer($0) }
                s.accepted += 1
                s.open.append(client)
                s.maxOpen = max(s.maxOpen, s.open.count)
            }
        }

        func closeAll() {
            state.withLock { s in
                s.open.forEach { close($0) }; s.open.removeAll()
            }
        }

        /// True (and the fd closed) once the peer has hung up.
        private static func closedByPeer(_ fd: Int32) -> Bool {
            var c = pollfd(fd: fd, events: Int16(POLLIN) | pollRDHUP, revents: 0)
            guard poll(&c, 1, 0) > 0, c.revents & (pollRDHUP | Int16(POLLHUP) | Int16(POLLERR)) != 0 else { return false }
            close(fd)
            return true
        }
    }

    let port: Int
    let tally: Tally
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)

    init(_ behaviour: Behaviour, tally: Tally = Tally()) throws {
        self.tally = tally
        (fd, port) = try LoopbackListener.open(backlog: 64)
        self.behaviour = behaviour
        start()
    }

    private let behaviour: Behaviour

    private func start() {
        Thread { self.serve(self.behaviour) }.start()
    }

    private func serve(_ behaviour: Behaviour) {
        while !stopped.load(ordering: .relaxed) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 20) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            switch behaviour {
            case .closeAtOnce:
                tally.opened(-1)
                close(client)
            case .holdSilently:
                tally.opened(client)
            }
        }
        close(fd)
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        tally.closeAll()
    }
}
