import FleetCore
import FleetRollout
import FleetTestSupport
import Foundation
import Synchronization
import Testing

/// A host whose version command reads what `set-version` wrote, long before `migrate`
/// moves its data: the shape of playbooks/flow.yml (`git checkout` then `db:migrate`). The
/// web keeps answering 200 whatever ran, so health cannot tell a migrated host from one that
/// is not: only the journal's steps can.
final class MigratingHosts: Sendable {
    struct HostState: Equatable {
        var version: String
        var schema: String
        var running: String
    }

    /// What the hosts hold and how they misbehave, shared with the executor's script.
    final class Shared: Sendable {
        let hosts: Mutex<[String: HostState]>
        /// host → the gate its next `migrate` waits at.
        let holdMigrate = Mutex<[String: String]>([:])
        /// host → the gate its next `restore` (the rollback) waits at.
        let holdRestore = Mutex<[String: String]>([:])
        /// Hosts whose `set-version` / `migrate` fails from now on / whose health fails.
        let checkoutFails = Mutex<Set<String>>([])
        let migrateFails = Mutex<Set<String>>([])
        let sick = Mutex<Set<String>>([])
        init(_ hosts: [String: HostState]) { self.hosts = Mutex(hosts) }
    }

    let shared: Shared
    let executor: ScriptedExecutor

    init(_ versions: [String: String]) {
        let w = Shared(versions.mapValues { HostState(version: $0, schema: $0, running: $0) })
        shared = w
        executor = ScriptedExecutor { host, c in
            let ok = ScriptedExecutor.Reply.result(CommandResult(exitStatus: 0))
            let words = c.script.split(separator: " ").map(String.init)
            switch words.first {
            case "app":
                return .result(CommandResult(exitStatus: 0, stdout: CapturedOutput("Version: \(w.hosts.withLock { $0[host]!.version })\n")))
            case "set-version":
                if w.checkoutFails.withLock({ $0.contains(host) }) { return .result(CommandResult(exitStatus: 128)) }
                w.hosts.withLock { $0[host]!.version = words[1] }
                return ok
            case "migrate":
                if w.migrateFails.withLock({ $0.contains(host) }) {
                    return .result(CommandResult(exitStatus: 1, stderr: CapturedOutput("PG::Error\n")))
                }
                w.hosts.withLock { $0[host]!.schema = words[1] }
                if let gate = w.holdMigrate.withLock({ $0.removeValue(forKey: host) }) { return .held(gate: gate, then: ok) }
                return ok
            case "restart":
                w.hosts.withLock { $0[host]!.running = $0[host]!.version }
                return ok
            case "health":
                return .result(CommandResult(exitStatus: w.sick.withLock { $0.contains(host) } ? 1 : 0))
            case "restore":
                w.hosts.withLock { $0[host] = HostState(version: words[1], schema: words[1], running: words[1]) }
                if let gate = w.holdRestore.withLock({ $0.removeValue(forKey: host) }) { return .held(gate: gate, then: ok) }
                return ok
            default:
                return .result(CommandResult(exitStatus: 127))
            }
        }
    }

    func state(_ host: String) -> HostState { shared.hosts.withLock { $0[host]! } }
    func commands(_ host: String, from: Int = 0) -> [String] {
        Array(executor.calls[from...]).filter { $0.host == host }.map(\.command)
    }

    static func playbook(rollback: Bool = true) -> Playbook {
        let t = Fixture.t
        return Playbook(
            name: "app", file: "/p/app.yml", hosts: "all", stages: ["prod"],
            version: VersionSpec(detect: t("app version"), target: Version("1.2.0")),
            releases: ["1.0.0", "1.1.0", "1.2.0"].map { Release(Version($0)!) }, path: .sequential,
            rolling: RolloutPolicy(batch: [.count(2)], maxFailPercentage: 100),
            steps: [
                .step(Step(name: "check out", action: .run(t("set-version {{ to }}")))),
                .step(Step(name: "migrate", action: .run(t("migrate {{ to }}")), noReturn: true)),
                .step(Step(name: "restart", action: .run(t("restart")))),
            ],
            health: [
                HealthProbe(
                    kind: .command(t("health")),
                    timing: ProbeTiming(
                        period: .seconds(2), timeout: .seconds(1), failureThreshold: 1,
                        deadline: .seconds(30)))
            ],
            rollback: rollback ? [Step(name: "restore", action: .run(t("restore {{ from }}")))] : [])
    }

    func coordinator(
        _ pb: Playbook = playbook(), hosts: [String], sink: RecordingSink, lastSeq: Int = 0,
        locks: (any HostLocking)? = nil, forks: Int = 2
    ) -> Coordinator<ManualClock> {
        let list = hosts.map { Host(name: $0, groups: ["prod"]) }
        let plan = RolloutPlanner.plan(
            pb, stages: [StageHosts(name: "prod", hosts: list)], target: Version("1.2.0")!,
            versions: [:], versionSource: .detected)
        let header = RunHeader(
            id: "run-1", user: "test", machine: "box", fleetupVersion: "0", plan: plan,
            playbookFile: pb.file, inventories: ["/i"], forks: forks)
        let setup = RunSetup(playbook: pb, hosts: list, target: Version("1.2.0")!, header: header, hostLocks: locks)
        return Coordinator(
            setup: setup, executor: executor, clock: ManualClock(), sink: sink, lastSeq: lastSeq,
            startedAt: "2026-12-07T00:00:00.000Z")
    }
}

extension RecordingSink {
    /// The entries up to the first one `cut` matches (exclusive): the journal a kill -9 at
    /// that moment leaves.
    func journal(cutAt cut: (RunEvent) -> Bool) -> [JournalEntry] {
        Array(entries.prefix { !cut($0.event) })
    }
}

private func stepStarted(_ name: String) -> (RunEvent) -> Bool {
    {
        if case .stepStarted(_, let s) = $0 { return s.name == name }; return false
    }
}

/// Runs `hosts` until `p1`'s migrate is held, and returns the journal as a kill -9 there
/// would leave it (cut before `cut`), with the first run ended.
private func killedRun(
    _ world: MigratingHosts, hosts: [String] = ["p1"],
    cut: @escaping (RunEvent) -> Bool
) async throws -> [JournalEntry] {
    world.shared.holdMigrate.withLock { $0["p1"] = "migrate" }
    let sink = RecordingSink()
    let c = world.coordinator(hosts: hosts, sink: sink)
    let run = Task { try await c.run(opening: .runStarted(c.setup.header)) }
    await world.executor.waitForArrivals(at: "migrate", count: 1)
    let journal = sink.journal(cutAt: cut)
    c.interrupt()
    c.interrupt()
    _ = try await run.value
    return journal
}

/// Resumes the journal `before` (as `fleetup resume` would) and returns the whole journal after.
private func resume(
    _ world: MigratingHosts, _ before: [JournalEntry], hosts: [String] = ["p1"], retryFailed: Bool = false,
    replan: Set<String> = [], playbook: Playbook = MigratingHosts.playbook()
) async throws -> (RunOutcome, RunRecord) {
    let (outcome, entries) = try await resumeJournal(
        world, before, hosts: hosts, retryFailed: retryFailed, replan: replan, playbook: playbook)
    return (outcome, try RunRecord(entries: entries))
}

/// As `resume`, returning the whole journal after it.
private func resumeJournal(
    _ world: MigratingHosts, _ before: [JournalEntry], hosts: [String] = ["p1"], retryFailed: Bool = false,
    replan: Set<String> = [], playbook: Playbook = MigratingHosts.playbook()
) async throws -> (RunOutcome, [JournalEntry]) {
    let record = try RunRecord(entries: before)
    let sink = RecordingSink()
    let c = world.coordinator(playbook, hosts: hosts, sink: sink, lastSeq: record.lastSeq)
    let outcome = try await c.run(
        opening: .resumed(user: "t", machine: "m", retryFailed: retryFailed), record: record,
        work: ResumePlanner.work(for: record, retryFailed: retryFailed, replan: replan),
        failedBefore: ResumePlanner.failedBefore(record, retryFailed: retryFailed, replan: replan))
    return (outcome, before + sink.entries)
}

@Suite("resume by steps: the journal says where a host stands, not its version")
struct ResumeTests {
    @Test("killed after the version-changing step, before the no_return migration started: resume runs the migration")
    func killedBeforeMigration() async throws {
        let world = MigratingHosts(["p1": "1.1.0"])
        let journal = try await killedRun(world, cut: stepStarted("migrate"))
        // What the kill left: the host reads the target, its data is not migrated.
        world.shared.hosts.withLock { $0["p1"]!.schema = "1.1.0" }
        #expect(world.state("p1").version == "1.2.0")
        let position = try #require(try RunRecord(entries: journal).host("p1")?.position)
        #expect(position.done.map(\.name) == ["check out"] && !position.attempted)

        let from = world.executor.calls.count
        let (outcome, record) = try await resume(world, journal)
        #expect(outcome == .succeeded)
        #expect(world.commands("p1", from: from) == ["app version", "migrate 1.2.0", "restart", "health", "app version"])
        #expect(world.state("p1").schema == "1.2.0")
        #expect(record.host("p1")?.outcome == .upgraded)
    }

    @Test("killed during the migration: it runs again (steps must tolerate it); a failure then is past the point of no return")
    func killedDuringMigration() async throws {
        for failsAgain in [false, true] {
            let world = MigratingHosts(["p1": "1.1.0"])
            let journal = try await killedRun(world, cut: { _ in false })
            let position = try #require(try RunRecord(entries: journal).host("p1")?.position)
            // A kill -9 leaves no stepFinished (CoordinatorTests covers the second Ctrl-C's
            // "interrupted" one): either way it started and did not finish with success.
            #expect(position.done.map(\.name) == ["check out"] && position.attempted)
            let cutAtKill = Array(
                journal.prefix {
                    if case .stepFinished(_, let r) = $0.event { return r.step.name != "migrate" }; return true
                })
            #expect(try RunRecord(entries: cutAtKill).host("p1")?.position == position)
            if failsAgain { _ = world.shared.migrateFails.withLock { $0.insert("p1") } }
            let from = world.executor.calls.count
            let (_, record) = try await resume(world, cutAtKill)
            let p1 = try #require(record.host("p1"))
            if failsAgain {
                // It may have migrated part of the data: no rollback, the restore hint instead.
                #expect(p1.outcome == .failed)
                #expect(world.commands("p1", from: from) == ["app version", "migrate 1.2.0"])
                #expect(p1.result?.restore?.contains("went past its point of no return (step \"migrate\")") == true)
            } else {
                #expect(p1.outcome == .upgraded)
                #expect(world.commands("p1", from: from) == ["app version", "migrate 1.2.0", "restart", "health", "app version"])
            }
        }
    }

    @Test("a no_return step passes the point of no return as it starts: failing, live or on resume, nothing is rolled back")
    func noReturnStarted() async throws {
        // Live: migrate fails at once.
        let live = MigratingHosts(["p1": "1.1.0"])
        _ = live.shared.migrateFails.withLock { $0.insert("p1") }
        let sink = RecordingSink()
        let c = live.coordinator(hosts: ["p1"], sink: sink)
        #expect(try await c.run(opening: .runStarted(c.setup.header)) == .failed)
        #expect(live.commands("p1") == ["app version", "set-version 1.2.0", "migrate 1.2.0"])
        #expect(try RunRecord(entries: sink.entries).host("p1")?.result?.restore?.contains("(step \"migrate\")") == true)

        // On resume: killed before migrate started; it fails when it runs.
        let world = MigratingHosts(["p1": "1.1.0"])
        let journal = try await killedRun(world, cut: stepStarted("migrate"))
        _ = world.shared.migrateFails.withLock { $0.insert("p1") }
        let from = world.executor.calls.count
        let (_, record) = try await resume(world, journal)
        #expect(world.commands("p1", from: from) == ["app version", "migrate 1.2.0"])
        #expect(record.host("p1")?.outcome == .failed && record.host("p1")?.result?.restore != nil)
    }

    @Test("killed before the version-changing step, which fails on resume: before the point of no return, so the rollback runs")
    func rollbackBeforeNoReturn() async throws {
        let world = MigratingHosts(["p1": "1.1.0"])
        let journal = try await killedRun(world, cut: stepStarted("check out"))
        _ = world.shared.checkoutFails.withLock { $0.insert("p1") }
        let from = world.executor.calls.count
        let (_, record) = try await resume(world, journal)
        #expect(world.commands("p1", from: from) == ["app version", "set-version 1.2.0", "restore 1.1.0"])
        #expect(record.host("p1")?.outcome == .rolledBack)
        #expect(world.state("p1").version == "1.1.0")
    }

    @Test("a host that reports neither end of its hop was changed outside the run: stopped, nothing runs, --replan named")
    func changedOutside() async throws {
        let world = MigratingHosts(["p1": "1.1.0"])
        let journal = try await killedRun(world, cut: stepStarted("migrate"))
        world.shared.hosts.withLock { $0["p1"] = .init(version: "1.0.0", schema: "1.0.0", running: "1.0.0") }
        let from = world.executor.calls.count
        let (outcome, entries) = try await resumeJournal(world, journal)
        let record = try RunRecord(entries: entries)
        #expect(outcome == .failed)
        #expect(world.commands("p1", from: from) == ["app version"])
        let message = try #require(record.host("p1")?.result?.message)
        #expect(
            message
                == "the journal left it mid-hop 1.1.0 -> 1.2.0 but it reports 1.0.0 (expected 1.1.0 or 1.2.0): it was changed outside this run; "
                + "look at it, then `fleetup resume --replan p1` plans it afresh from the version it reports")

        // --replan: planned afresh from 1.0.0, two hops.
        #expect(ResumePlanner.work(for: record, retryFailed: false)["p1"] == RolloutMachine.Work.none)
        let (again, after) = try await resume(world, entries, replan: ["p1"])
        #expect(again == .succeeded)
        #expect(after.host("p1")?.result?.path == ["1.0.0", "1.1.0", "1.2.0"])
    }

    @Test("the playbook's steps changed under a half-done hop: the host stops and says which step differs")
    func playbookChanged() async throws {
        let world = MigratingHosts(["p1": "1.1.0"])
        let journal = try await killedRun(world, cut: stepStarted("migrate"))
        var pb = MigratingHosts.playbook()
        pb.steps[0] = .step(Step(name: "check out", action: .run(Fixture.t("set-version --force {{ to }}"))))
        let from = world.executor.calls.count
        let (_, record) = try await resume(world, journal, playbook: pb)
        #expect(world.commands("p1", from: from) == ["app version"])
        #expect(
            record.host("p1")?.result?.message?.hasPrefix(
                "the playbook changed since the journal left it in 1.1.0 -> 1.2.0: step 1 ran as \"check out\": set-version 1.2.0, "
                    + "the playbook now has \"check out\": set-version --force 1.2.0") == true,
            "\(record.host("p1")?.result?.message ?? "")")
    }

    @Test("on the target and unhealthy: --retry-failed re-checks health from where it failed, running no step again")
    func retryUnhealthy() async throws {
        let world = MigratingHosts(["p1": "1.1.0"])
        _ = world.shared.sick.withLock { $0.insert("p1") }
        let sink = RecordingSink()
        let c = world.coordinator(hosts: ["p1"], sink: sink)
        #expect(try await c.run(opening: .runStarted(c.setup.header)) == .failed)
        let first = try RunRecord(entries: sink.entries)
        #expect(first.host("p1")?.outcome == .failed && world.state("p1").version == "1.2.0")

        // Without --retry-failed it stays failed; with it, once fixed, its health is checked again.
        #expect(ResumePlanner.work(for: first, retryFailed: false)["p1"] == RolloutMachine.Work.none)
        _ = world.shared.sick.withLock { $0.remove("p1") }
        let from = world.executor.calls.count
        let (outcome, record) = try await resume(world, sink.entries, retryFailed: true)
        #expect(outcome == .succeeded)
        #expect(world.commands("p1", from: from) == ["app version", "health", "app version"])
        #expect(record.host("p1")?.outcome == .upgraded)
    }

    @Test("a failed step past the point of no return: --retry-failed runs it again, and the steps after it")
    func retryFailedStep() async throws {
        let world = MigratingHosts(["p1": "1.1.0"])
        var pb = MigratingHosts.playbook()
        pb.steps[2] = .step(Step(name: "restart", action: .run(Fixture.t("restart-broken"))))
        let sink = RecordingSink()
        let c = world.coordinator(pb, hosts: ["p1"], sink: sink)
        #expect(try await c.run(opening: .runStarted(c.setup.header)) == .failed)
        let from = world.executor.calls.count
        let (outcome, _) = try await resume(world, sink.entries, retryFailed: true)  // the playbook fixed
        #expect(outcome == .succeeded)
        #expect(world.commands("p1", from: from) == ["app version", "restart", "health", "app version"])
    }

    @Test("interrupted during its rollback: resume finishes the rollback, it does not go forward")
    func interruptedRollback() async throws {
        let world = MigratingHosts(["p1": "1.1.0"])
        let journal = try await killedRun(world, cut: stepStarted("migrate"))
        // Pretend the kill came during the rollback: migrate failed, restore started.
        let t: WallTime = "2026-12-07T00:00:00.000Z"
        var seq = journal.last!.seq
        func ref(_ phase: StepPhase, _ i: Int, _ name: String, _ cmd: String) -> StepRef {
            StepRef(phase: phase, from: "1.1.0", to: "1.2.0", index: i, name: name, command: cmd)
        }
        var torn = journal
        for e in [
            RunEvent.stepStarted(host: "p1", step: ref(.upgrade, 1, "migrate", "migrate 1.2.0")),
            .stepFinished(host: "p1", record: StepRecord(step: ref(.upgrade, 1, "migrate", "migrate 1.2.0"), exitStatus: 1)),
            .stepStarted(host: "p1", step: ref(.rollback, 0, "restore", "restore 1.1.0")),
        ] {
            seq += 1
            torn.append(JournalEntry(seq: seq, time: t, event: e))
        }
        let position = try #require(try RunRecord(entries: torn).host("p1")?.position)
        #expect(position.rollbackDone == 0)
        let from = world.executor.calls.count
        let (_, record) = try await resume(world, torn)
        #expect(world.commands("p1", from: from) == ["app version", "restore 1.1.0"])
        #expect(record.host("p1")?.outcome == .rolledBack)
    }
}

@Suite("the run's rolling policy in its journal header")
struct RunPolicyTests {
    @Test(
        "every policy goes through the journal's JSON and back unchanged",
        arguments: [
            RolloutPolicy(),
            RolloutPolicy(batch: [.count(1), .percent(25), .percent(50)], maxFailPercentage: 0, pause: .seconds(30), gate: .manual),
            RolloutPolicy(
                batch: [.count(0)], order: .shuffle, seed: 42, maxFailPercentage: 25, maxFailures: 2,
                pause: .milliseconds(1500), gate: .soak(.seconds(300))),
        ])
    func roundTrip(policy: RolloutPolicy) throws {
        let text = String(decoding: try JSONEncoder().encode(policy), as: UTF8.self)
        #expect(try JSONDecoder().decode(RolloutPolicy.self, from: Data(text.utf8)) == policy, "\(text)")
    }

    @Test("a playbook whose policy changed since the run started: the resume says so and keeps the run's")
    func note() {
        let started = RolloutPolicy(batch: [.count(1)], maxFailPercentage: 0, pause: .seconds(30), gate: .manual)
        var now = started
        #expect(ResumePlanner.policyNote(started: started, now: now) == nil)
        now.maxFailPercentage = 25
        #expect(
            ResumePlanner.policyNote(started: started, now: now)
                == "the playbook's rolling policy changed since the run started (now batch [1], max_fail_percentage 25, pause 30s, gate manual); "
                + "the run goes on under its own (batch [1], max_fail_percentage 0, pause 30s, gate manual)")
    }
}
