import FleetCore
import FleetRollout
import FleetTestSupport
import Synchronization
import Testing

/// Host locks held in memory: who holds each host, and every release.
final class MemoryHostLocks: HostLocking {
    let held: Mutex<[String: String]>
    let released = Mutex<[String]>([])
    let run: String

    init(run: String = "run-1", held: [String: String] = [:]) {
        self.run = run
        self.held = Mutex(held)
    }

    func acquire(_ host: Host) async -> HostLockOutcome {
        held.withLock { h in
            if let holder = h[host.name], holder != run { return .refused("the host is locked by \(holder)") }
            h[host.name] = run
            return .acquired(note: nil)
        }
    }

    func release(_ host: Host) async -> String? {
        held.withLock { _ = $0.removeValue(forKey: host.name) }
        released.withLock { $0.append(host.name) }
        return nil
    }
}

@Suite("safety: one upgrader per host, a journal on a full disk drains")
struct SafetyTests {
    @Test("a host another run holds fails with the holder named before anything runs on it; the others go on and give their locks back")
    func hostLockedElsewhere() async throws {
        let world = MigratingHosts(["p1": "1.1.0", "p2": "1.1.0"])
        let holder = "run 20261207-010203-beef (bob@ops2, pid 77, since 2026-12-07T01:02:03Z)"
        let locks = MemoryHostLocks(held: ["p2": holder])
        let sink = RecordingSink()
        let c = world.coordinator(hosts: ["p1", "p2"], sink: sink, locks: locks)
        #expect(try await c.run(opening: .runStarted(c.setup.header)) == .failed)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("p2")?.outcome == .failed)
        #expect(record.host("p2")?.result?.message == "the host is locked by \(holder)")
        #expect(world.commands("p2").isEmpty)
        #expect(record.host("p1")?.outcome == .upgraded)
        #expect(locks.released.withLock { $0 } == ["p1"])
        #expect(locks.held.withLock { $0 } == ["p2": holder])
    }

    @Test("plan names a host an earlier run left mid-upgrade; a later run refused it does not hide that, one that upgraded it does")
    func planNamesMidUpgradeHosts() async throws {
        // Run A: p1's migration fails past its point of no return (mid-upgrade); p2 upgraded.
        let a = MigratingHosts(["p1": "1.1.0", "p2": "1.1.0"])
        a.shared.migrateFails.withLock { $0 = ["p1"] }
        let sinkA = RecordingSink()
        let runA = a.coordinator(hosts: ["p1", "p2"], sink: sinkA)
        _ = try await runA.run(opening: .runStarted(runA.setup.header))
        let recordA = try RunRecord(entries: sinkA.entries)
        // Run B, later: refused p1 (its lock), so it changed nothing there.
        let b = MigratingHosts(["p1": "1.2.0", "p2": "1.2.0"])
        let sinkB = RecordingSink()
        let runB = b.coordinator(hosts: ["p1", "p2"], sink: sinkB, locks: MemoryHostLocks(run: "run-2", held: ["p1": "run-1"]))
        _ = try await runB.run(opening: .runStarted(runB.setup.header))
        let recordB = try RunRecord(entries: sinkB.entries)
        #expect(recordB.host("p1")?.outcome == .failed && recordB.host("p1")?.position.isClean == true)
        // Run C, later: upgraded p1 (after the operator repaired it and released the lock).
        let c = MigratingHosts(["p1": "1.1.0", "p2": "1.2.0"])
        let sinkC = RecordingSink()
        let runC = c.coordinator(hosts: ["p1", "p2"], sink: sinkC)
        _ = try await runC.run(opening: .runStarted(runC.setup.header))
        let recordC = try RunRecord(entries: sinkC.entries)

        let line =
            "p1: run run-1 left it mid-upgrade (1.1.0 -> 1.2.0 at step 2, after \"check out\"): a new run is refused it; "
            + "`fleetup resume run-1 --plan` shows what runs again"
        #expect(ResumePreview.leftMidUpgrade([recordA], among: ["p1", "p2"]) == [line])
        #expect(ResumePreview.leftMidUpgrade([recordB, recordA], among: ["p1", "p2"]) == [line])
        #expect(ResumePreview.leftMidUpgrade([recordA], among: ["p2"]).isEmpty)
        #expect(ResumePreview.leftMidUpgrade([recordC, recordB, recordA], among: ["p1", "p2"]).isEmpty)
    }

    /// p1 (and p2, one at a time) upgrading, p1 held in its migration: the run, its sink
    /// and coordinator, once it holds.
    static func heldInMigration(_ world: MigratingHosts) async -> (Task<RunOutcome, any Error>, RecordingSink) {
        world.shared.holdMigrate.withLock { $0["p1"] = "migrate" }
        let sink = RecordingSink()
        let c = world.coordinator(hosts: ["p1", "p2"], sink: sink, forks: 1)
        let run = Task { try await c.run(opening: .runStarted(c.setup.header)) }
        await world.executor.waitForArrivals(at: "migrate", count: 1)
        return (run, sink)
    }

    @Test("a host left mid-upgrade keeps its lock (this run's resume takes it); a host done, or rolled back, gives it back")
    func lockKeptMidUpgrade() async throws {
        let world = MigratingHosts(["p1": "1.1.0", "p2": "1.1.0", "p3": "1.1.0"])
        world.shared.migrateFails.withLock { $0 = ["p1"] }
        world.shared.checkoutFails.withLock { $0 = ["p2"] }
        let locks = MemoryHostLocks()
        let sink = RecordingSink()
        let c = world.coordinator(hosts: ["p1", "p2", "p3"], sink: sink, locks: locks, forks: 3)
        #expect(try await c.run(opening: .runStarted(c.setup.header)) == .failed)
        let record = try RunRecord(entries: sink.entries)
        // p1: its migration failed past the point of no return; p2: rolled back; p3: upgraded.
        #expect(record.host("p1")?.outcome == .failed && record.host("p2")?.outcome == .rolledBack)
        #expect(Set(locks.released.withLock { $0 }) == ["p2", "p3"])
        #expect(locks.held.withLock { $0 } == ["p1": "run-1"])
        #expect(
            sink.events.contains(
                .note(host: "p1", text: "its host lock stays: its upgrade is unfinished (`fleetup resume run-1` goes on with it)")))
    }

    @Test(
        "the journal writes into its reserve mid-step: the step finishes, the host finishes that hop and stops, nothing new starts; resume completes"
    )
    func journalReserve() async throws {
        let world = MigratingHosts(["p1": "1.0.0", "p2": "1.1.0"])
        let (run, sink) = await Self.heldInMigration(world)
        sink.degrade("no space left on device")
        world.executor.release("migrate")
        #expect(try await run.value == .interrupted)
        // p1 finished the hop it was in (its app restarted and healthy on 1.1.0), and went no further.
        #expect(world.commands("p1") == ["app version", "set-version 1.1.0", "migrate 1.1.0", "restart", "health"])
        #expect(world.state("p1").running == "1.1.0")
        #expect(world.commands("p2").isEmpty)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("p1")?.outcome == .interrupted)
        #expect(record.host("p1")?.result?.message?.hasPrefix("stopped after 1.0.0 -> 1.1.0 (healthy): the run was stopping") == true)
        #expect(record.host("p2")?.state == .pending)
        #expect(record.haltReason?.hasPrefix("the state folder's disk is full (no space left on device): nothing new starts") == true)
        #expect(record.outcome == .interrupted)

        let work = ResumePlanner.work(for: record, retryFailed: false)
        let sink2 = RecordingSink()
        let c2 = world.coordinator(hosts: ["p1", "p2"], sink: sink2, lastSeq: record.lastSeq, forks: 1)
        #expect(try await c2.run(opening: .resumed(user: "t", machine: "m", retryFailed: false), record: record, work: work) == .succeeded)
        #expect(world.state("p1") == .init(version: "1.2.0", schema: "1.2.0", running: "1.2.0"))
        #expect(world.state("p2") == .init(version: "1.2.0", schema: "1.2.0", running: "1.2.0"))
    }

    @Test(
        "the journal writes into its reserve with two hosts in flight, one migrating, one rolling back: each finishes what it is in, the next batch never starts"
    )
    func journalReserveTwoInFlight() async throws {
        let world = MigratingHosts(["p1": "1.1.0", "p2": "1.1.0", "p3": "1.1.0"])
        world.shared.holdMigrate.withLock { $0["p1"] = "migrate" }
        world.shared.checkoutFails.withLock { $0 = ["p2"] }
        world.shared.holdRestore.withLock { $0["p2"] = "restore" }
        let sink = RecordingSink()
        // Batches of 2: p1 and p2 together, p3 in the next.
        let c = world.coordinator(hosts: ["p1", "p2", "p3"], sink: sink, forks: 2)
        let run = Task { try await c.run(opening: .runStarted(c.setup.header)) }
        await world.executor.waitForArrivals(at: "migrate", count: 1)
        await world.executor.waitForArrivals(at: "restore", count: 1)
        sink.degrade("no space left on device")
        world.executor.release("migrate")
        world.executor.release("restore")
        #expect(try await run.value == .interrupted)
        // p1 finished its hop (migrated, restarted, healthy); p2 finished its rollback.
        #expect(world.commands("p1") == ["app version", "set-version 1.2.0", "migrate 1.2.0", "restart", "health", "app version"])
        #expect(world.state("p1") == .init(version: "1.2.0", schema: "1.2.0", running: "1.2.0"))
        #expect(world.commands("p2") == ["app version", "set-version 1.2.0", "restore 1.1.0"])
        #expect(world.state("p2") == .init(version: "1.1.0", schema: "1.1.0", running: "1.1.0"))
        #expect(world.commands("p3").isEmpty)
        let record = try RunRecord(entries: sink.entries)
        // Its hop was its last: on the target and healthy, it is upgraded.
        #expect(record.host("p1")?.outcome == .upgraded)
        #expect(record.host("p2")?.outcome == .rolledBack)
        #expect(record.host("p3")?.state == .pending)
        #expect(record.haltReason?.hasPrefix("the state folder's disk is full (no space left on device): nothing new starts") == true)
        #expect(record.outcome == .interrupted)
    }

    @Test(
        "a journal that cannot be written mid-step: the command is not killed, nothing more runs anywhere, the error names where each host stopped"
    )
    func journalBroken() async throws {
        let world = MigratingHosts(["p1": "1.1.0", "p2": "1.1.0"])
        let (run, sink) = await Self.heldInMigration(world)
        sink.fail()
        world.executor.release("migrate")
        let error = await #expect(throws: RunJournalError.self) { try await run.value }
        #expect(world.commands("p1") == ["app version", "set-version 1.2.0", "migrate 1.2.0"])
        #expect(world.state("p1").schema == "1.2.0")
        #expect(world.commands("p2").isEmpty)
        let message = try #require(error?.message)
        #expect(message.hasPrefix("the journal could not be written (no space left on device): nothing new started"))
        #expect(message.contains("\n  p1: after step 2 \"migrate\" of 1.1.0 -> 1.2.0\n"), "\(message)")
        #expect(message.hasSuffix("`fleetup resume run-1`: each goes on from the last step its journal holds"))
    }
}
