import Foundation
import Synchronization
import Testing

@testable import FleetSSH

@Suite("the reactor")
struct ReactorTests {
    @Test("submitted work runs on the reactor thread, in order")
    func order() async throws {
        let reactor = try Reactor(name: "test-reactor")
        let seen = Mutex<[Int]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for i in 0..<100 { reactor.submit { seen.withLock { $0.append(i) } } }
            reactor.submit { done.resume() }
        }
        #expect(seen.withLock { $0 } == Array(0..<100))
        reactor.shutdown()
    }

    @Test("the wake-up descriptor stays the reactor's own after its loop ends")
    func descriptorOutlivesLoop() async throws {
        let reactor = try Reactor(name: "test-reactor")
        var before = stat()
        #expect(fstat(reactor.wakeFd, &before) == 0)
        reactor.shutdown()
        // The loop's thread ends on its own time: wait for it (a busy machine only makes it
        // later; the bound is a hang guard, not a timing claim).
        let deadline = ContinuousClock.now + .seconds(300)
        while !reactor.hasStopped && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(reactor.hasStopped)
        // A late submit (a second shutdown) writes to this descriptor. Were it closed when
        // the loop ended, its number could belong to any new socket by now, and those 8
        // bytes would land in someone else's SSH stream.
        var after = stat()
        #expect(fstat(reactor.wakeFd, &after) == 0)
        #expect(after.st_ino == before.st_ino && after.st_dev == before.st_dev)
        reactor.submit {}
    }
}
