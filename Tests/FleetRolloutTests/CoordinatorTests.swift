import FleetCore
import FleetRollout
import FleetTestSupport
import Synchronization
import Testing

/// Hosts that behave like the fake app, answered by a scripted executor: `app version`,
/// `install X` (unpacks X), `systemctl start app` (runs what is unpacked), `health` (exit 0
/// unless the host is broken at its running version), `restore X`. Every command is logged.
final class WorldState: Sendable {
    struct HostState {
        var installed: String
        var running: String
    }

    let hosts: Mutex<[String: HostState]>
    /// host → version at which its health fails.
    let brokenAt: [String: String]
    /// Hosts whose `install` fails.
    let installFails: Set<String>
    let unreachable: Set<String>
    /// host → gate its `install` waits at.
    let holdInstall: [String: String]
    /// Hosts whose health fails from now on, whatever they run.
    let sick = Mutex<Set<String>>([])

    init(
        _ versions: [(String, String)], brokenAt: [String: String] = [:], installFails: Set<String> = [],
        unreachable: Set<String> = [], holdInstall: [String: String] = [:]
    ) {
        hosts = Mutex(Dictionary(uniqueKeysWithValues: versions.map { ($0.0, HostState(installed: $0.1, running: $0.1)) }))
        self.brokenAt = brokenAt
        self.installFails = installFails
        self.unreachable = unreachable
        self.holdInstall = holdInstall
    }

    func running(_ host: String) -> String { hosts.withLock { $0[host]!.running } }

    func answer(_ host: String, _ script: String) -> ScriptedExecutor.Reply {
        let ok = ScriptedExecutor.Reply.result(CommandResult(exitStatus: 0))
        let words = script.split(separator: " ").map(String.init)
        switch words.first {
        case "app":
            return .result(CommandResult(exitStatus: 0, stdout: CapturedOutput("Version: \(running(host))\n")))
        case "install":
            if installFails.contains(host) {
                return .result(CommandResult(exitStatus: 2, stderr: CapturedOutput("tar: unexpected end of file\n")))
            }
            hosts.withLock { $0[host]!.installed = words[1] }
            if let gate = holdInstall[host] { return .held(gate: gate, then: ok) }
            return ok
        case "systemctl":
            hosts.withLock { $0[host]!.running = $0[host]!.installed }
            return ok
        case "health":
            let broken = brokenAt[host] == running(host) || sick.withLock { $0.contains(host) }
            return .result(CommandResult(exitStatus: broken ? 1 : 0, stderr: CapturedOutput(broken ? "503\n" : "")))
        case "restore":
            hosts.withLock {
                $0[host]!.installed = words[1]; $0[host]!.running = words[1]
            }
            return ok
        case "echo":
            return .result(CommandResult(exitStatus: 0, stdout: CapturedOutput(words.dropFirst().joined(separator: " ") + "\n")))
        default:
            return .result(CommandResult(exitStatus: 127, stderr: CapturedOutput("sh: \(words.first ?? ""): not found\n")))
        }
    }

}

/// The world's hosts and the scripted executor that answers for them.
struct World: Sendable {
    let state: WorldState
    let executor: ScriptedExecutor

    init(
        _ versions: [(String, String)], brokenAt: [String: String] = [:], installFails: Set<String> = [],
        unreachable: Set<String> = [], holdInstall: [String: String] = [:]
    ) {
        let state = WorldState(
            versions, brokenAt: brokenAt, installFails: installFails, unreachable: unreachable,
            holdInstall: holdInstall)
        self.state = state
        executor = ScriptedExecutor(
            connects: { unreachable.contains($0) ? .unreachable : nil },
            tunnels: { _, _, _ in .refused("no tunnels here") }
        ) { host, c in
            state.answer(host, c.script)
        }
    }

    func running(_ host: String) -> String { state.running(host) }
    /// Commands each host ran, in order.
    func commands(_ host: String) -> [String] { executor.calls.filter { $0.host == host }.map(\.command) }
}

enum Fixture {
    static func t(_ s: String) -> Template { try! Template(parsing: s) }

    static func playbook(
        batch: [BatchSize] = [.count(1), .percent(50)], maxFail: Int = 0, maxFailures: Int? = nil,
        pause: Duration = .zero, gate: StageGate = .none, rollback: Bool = true,
        extraSteps: [Step] = [], vars: [String: VarValue] = [:], secret: Set<String> = []
    ) -> Playbook {
        Playbook(
            name: "app", file: "/p/app.yml", hosts: "all", stages: ["staging", "prod"], vars: vars, secret: secret,
            version: VersionSpec(detect: t("app version"), target: Version("1.2.0")),
            releases: ["1.0.0", "1.1.0", "1.2.0"].map { Release(Version($0)!) }, path: .sequential,
            rolling: RolloutPolicy(batch: batch, maxFailPercentage: maxFail, maxFailures: maxFailures, pause: pause, gate: gate),
            steps: extraSteps.map { StepEntry.step($0) } + [
                .step(Step(name: "install", action: .run(t("install {{ to }}")))),
                .step(Step(name: "start", action: .run(t("systemctl start app")), noReturn: true)),
            ],
            health: [
                HealthProbe(
                    kind: .command(t("health")),
                    timing: ProbeTiming(period: .seconds(2), timeout: .seconds(1), failureThreshold: 2, deadline: .seconds(30)))
            ],
            rollback: rollback ? [Step(name: "restore", action: .run(t("restore {{ from }}")))] : [])
    }

    static func hosts(staging: Int, prod: Int) -> [Host] {
        (1...max(1, staging)).prefix(staging).map { Host(name: "s\($0)", groups: ["staging"]) }
            + (1...max(1, prod)).prefix(prod).map { Host(name: "p\($0)", groups: ["prod"]) }
    }

    /// A coordinator over the world's hosts, planned as `run` plans them.
    static func coordinator(
        _ playbook: Playbook, _ hosts: [Host], world: World, clock: ManualClock, sink: RecordingSink,
        forks: Int = 10, gateKeeper: any GateKeeper = FixedGateKeeper(approved: nil),
        lastSeq: Int = 0
    ) -> Coordinator<ManualClock> {
        let stages = [
            StageHosts(name: "staging", hosts: hosts.filter { $0.groups.contains("staging") }),
            StageHosts(name: "prod", hosts: hosts.filter { $0.groups.contains("prod") }),
        ]
        let plan = RolloutPlanner.plan(playbook, stages: stages, target: Version("1.2.0")!, versions: [:], versionSource: .detected)
        let header = RunHeader(
            id: "run-1", user: "test", machine: "box", fleetupVersion: "0", plan: plan,
            playbookFile: playbook.file, inventories: ["/i"], forks: forks)
        let setup = RunSetup(playbook: playbook, hosts: hosts, target: Version("1.2.0")!, header: header)
        return Coordinator(
            setup: setup, executor: world.executor, clock: clock, sink: sink, gateKeeper: gateKeeper,
            lastSeq: lastSeq, startedAt: "2026-12-02T00:00:00.000Z")
    }

    static func header(_ c: Coordinator<ManualClock>) -> RunEvent { .runStarted(c.setup.header) }
}

/// Moves the manual clock whenever the code under test sleeps on it, until stopped: time
/// passes only when everything else is parked (no real sleeps anywhere).
func drive<T: Sendable>(_ clock: ManualClock, while task: Task<T, any Error>) async throws -> T {
    let driver = Task {
        while !Task.isCancelled {
            await clock.waitForSleepers(1)
            clock.advanceToNextDeadline()
            await Task.yield()
        }
    }
    defer { driver.cancel(); clock.advance(by: .seconds(1_000_000)) }
    return try await task.value
}

@Suite("coordinator: real decisions through a scripted executor and a manual clock")
struct CoordinatorTests {
    @Test("sequential: every host visits every hop, staging before prod, batches as planned")
    func sequential() async throws {
        let world = World([("s1", "1.0.0"), ("p1", "1.1.0"), ("p2", "1.0.0"), ("p3", "1.2.0"), ("p4", "1.0.0")])
        let sink = RecordingSink()
        let clock = ManualClock()
        let c = Fixture.coordinator(Fixture.playbook(), Fixture.hosts(staging: 1, prod: 4), world: world, clock: clock, sink: sink)
        let outcome = try await c.run(opening: Fixture.header(c))
        #expect(outcome == .succeeded)
        for h in ["s1", "p1", "p2", "p3", "p4"] { #expect(world.running(h) == "1.2.0") }
        #expect(world.commands("s1").filter { $0.hasPrefix("install") } == ["install 1.1.0", "install 1.2.0"])
        #expect(world.commands("p1").filter { $0.hasPrefix("install") } == ["install 1.2.0"])
        #expect(world.commands("p3").filter { $0.hasPrefix("install") }.isEmpty)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("p3")?.outcome == .alreadyCurrent)
        #expect(record.host("s1")?.result?.path == ["1.0.0", "1.1.0", "1.2.0"])
        #expect(record.outcome == .succeeded)
        // Batches: staging [s1]; prod [p1] then 50% of 4 = [p2, p3] then [p4].
        let batches = sink.events.compactMap { e -> [String]? in
            if case .batchStarted(_, _, let h) = e { return h }; return nil
        }
        #expect(batches == [["s1"], ["p1"], ["p2", "p3"], ["p4"]])
        // Every prod host starts after staging's last host finished.
        let seqFinishedS1 = sink.entries.first {
            if case .hostFinished("s1", _) = $0.event { return true }; return false
        }!.seq
        let firstProd = sink.entries.first {
            if case .hostStarted(let h, _, _) = $0.event { return h.hasPrefix("p") }; return false
        }!.seq
        #expect(seqFinishedS1 < firstProd)
        #expect(sink.entries.map(\.seq) == Array(1...sink.entries.count))
    }

    @Test("health breaks after the point of no return on one prod host: halt, no rollback, restore hint, later batches skipped")
    func healthBreaks() async throws {
        let world = World(
            [("s1", "1.1.0"), ("p1", "1.1.0"), ("p2", "1.1.0"), ("p3", "1.1.0"), ("p4", "1.1.0")],
            brokenAt: ["p1": "1.2.0"])
        let sink = RecordingSink()
        let clock = ManualClock()
        let c = Fixture.coordinator(Fixture.playbook(), Fixture.hosts(staging: 1, prod: 4), world: world, clock: clock, sink: sink)
        let outcome = try await drive(clock, while: Task { try await c.run(opening: Fixture.header(c)) })
        #expect(outcome == .halted)
        let record = try RunRecord(entries: sink.entries)
        let p1 = try #require(record.host("p1"))
        #expect(p1.outcome == .failed)
        #expect(p1.result?.restore?.contains("went past its point of no return (step \"start\")") == true)
        #expect(!world.commands("p1").contains { $0.hasPrefix("restore") })
        // Two attempts (failure_threshold 2), two seconds apart on the manual clock.
        let probe = try #require(p1.health.last?.probes.first)
        #expect(probe.attempts.map(\.atMs) == [0, 2000])
        #expect(probe.verdict == "2 consecutive failures")
        for h in ["p2", "p3", "p4"] {
            #expect(record.host(h)?.outcome == .skippedAfterHalt)
            #expect(world.commands(h).isEmpty)
        }
        #expect(record.haltReason == "1 of 1 hosts in the batch failed, more than max_fail_percentage 0%")
    }

    @Test("a step fails before the point of no return: rollback runs, the host is rolled back (and counts as failed)")
    func rollback() async throws {
        let world = World([("s1", "1.1.0"), ("p1", "1.1.0")], installFails: ["s1"])
        let sink = RecordingSink()
        let c = Fixture.coordinator(Fixture.playbook(), Fixture.hosts(staging: 1, prod: 1), world: world, clock: ManualClock(), sink: sink)
        #expect(try await c.run(opening: Fixture.header(c)) == .halted)
        #expect(world.commands("s1") == ["app version", "install 1.2.0", "restore 1.1.0"])
        let s1 = try #require(try RunRecord(entries: sink.entries).host("s1"))
        #expect(s1.outcome == .rolledBack)
        #expect(s1.result?.message == "step \"install\" of 1.1.0 -> 1.2.0 exit 2")
        #expect(s1.steps.map(\.step.phase) == [.upgrade, .rollback])
        #expect(s1.steps.first?.stderr == "tar: unexpected end of file\n")
        #expect(world.commands("p1").isEmpty)  // prod never started
    }

    @Test("unreachable counts as failed: halts at 0%; at 50% the run goes on and reports it")
    func unreachable() async throws {
        for (maxFail, expected) in [(0, RunOutcome.halted), (50, .failed)] {
            let world = World([("s1", "1.1.0"), ("p1", "1.1.0"), ("p2", "1.1.0")], unreachable: ["p1"])
            let sink = RecordingSink()
            let c = Fixture.coordinator(
                Fixture.playbook(batch: [.count(2)], maxFail: maxFail), Fixture.hosts(staging: 1, prod: 2),
                world: world, clock: ManualClock(), sink: sink, forks: 1)
            #expect(try await c.run(opening: Fixture.header(c)) == expected)
            let record = try RunRecord(entries: sink.entries)
            #expect(record.host("p1")?.outcome == .unreachable)
            #expect(record.host("p2")?.outcome == (maxFail == 0 ? .skippedAfterHalt : .upgraded))
        }
    }

    @Test("pause between batches waits on the clock: batch 2 starts only when the pause is over")
    func pause() async throws {
        let world = World([("p1", "1.1.0"), ("p2", "1.1.0")])
        let sink = RecordingSink()
        let clock = ManualClock()
        let c = Fixture.coordinator(
            Fixture.playbook(batch: [.count(1)], pause: .seconds(30)), Fixture.hosts(staging: 0, prod: 2),
            world: world, clock: clock, sink: sink)
        let run = Task { try await c.run(opening: Fixture.header(c)) }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == ManualClock.Instant(offset: .seconds(30)))
        #expect(world.commands("p2").isEmpty)
        clock.advance(by: .seconds(29))
        #expect(world.commands("p2").isEmpty)
        clock.advance(by: .seconds(1))
        #expect(try await run.value == .succeeded)
        #expect(world.running("p2") == "1.2.0")
    }

    @Test("first interrupt drains: the host in flight finishes its upgrade, nothing new starts, the rest stays pending")
    func drain() async throws {
        let world = World([("p1", "1.1.0"), ("p2", "1.1.0"), ("p3", "1.1.0")], holdInstall: ["p1": "p1"])
        let sink = RecordingSink()
        let c = Fixture.coordinator(
            Fixture.playbook(batch: [.count(3)]), Fixture.hosts(staging: 0, prod: 3),
            world: world, clock: ManualClock(), sink: sink, forks: 1)
        let run = Task { try await c.run(opening: Fixture.header(c)) }
        await world.executor.waitForArrivals(at: "p1", count: 1)
        c.interrupt()
        world.executor.release("p1")
        #expect(try await run.value == .interrupted)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("p1")?.outcome == .upgraded)
        #expect(record.host("p2")?.state == .pending)
        #expect(world.commands("p2").isEmpty)
        #expect(sink.events.contains(.draining))
    }

    @Test("second interrupt ends the command in flight: the host is interrupted, and resume goes on from that step")
    func abortThenResume() async throws {
        let world = World([("p1", "1.1.0"), ("p2", "1.1.0")], holdInstall: ["p1": "p1"])
        let sink = RecordingSink()
        let pb = Fixture.playbook(batch: [.count(2)])
        let hosts = Fixture.hosts(staging: 0, prod: 2)
        let c = Fixture.coordinator(pb, hosts, world: world, clock: ManualClock(), sink: sink, forks: 1)
        let run = Task { try await c.run(opening: Fixture.header(c)) }
        await world.executor.waitForArrivals(at: "p1", count: 1)
        c.interrupt()
        c.interrupt()  // the held command ends with its task, as a real one does
        #expect(try await run.value == .interrupted)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("p1")?.outcome == .interrupted)
        #expect(record.host("p1")?.steps.last?.error == "interrupted")

        // Resume: p1 goes on from its install (its version read first), p2 runs; the journal goes on counting.
        let work = ResumePlanner.work(for: record, retryFailed: false)
        let p1 = try #require(record.host("p1")?.position)
        #expect(p1.hop == .init(from: "1.1.0", to: "1.2.0") && p1.done.isEmpty && p1.attempted)
        #expect(work == ["p1": .resume(.resume(p1)), "p2": .run])
        world.executor.release("p1")  // its install goes through this time
        let before = world.executor.calls.count
        let world2 = world
        let c2 = Fixture.coordinator(pb, hosts, world: world2, clock: ManualClock(), sink: sink, forks: 1, lastSeq: c.lastSeq)
        let outcome = try await c2.run(opening: .resumed(user: "test", machine: "box", retryFailed: false), record: record, work: work)
        #expect(outcome == .succeeded)
        #expect(Array(world.executor.calls[before...]).first?.host == "p1")
        #expect(Array(world.executor.calls[before...]).first?.command == "app version")
        let final = try RunRecord(entries: sink.entries)
        #expect(final.outcome == .succeeded)
        #expect(final.resumes == 1)
        #expect(final.hosts.allSatisfy { $0.outcome == .upgraded })
    }

    @Test("resume after a halt leaves the failed hosts alone unless --retry-failed; done hosts are never touched")
    func resumeAfterHalt() async throws {
        let world = World([("p1", "1.1.0"), ("p2", "1.1.0"), ("p3", "1.1.0")], installFails: ["p2"])
        let sink = RecordingSink()
        let pb = Fixture.playbook(batch: [.count(1)], rollback: false)
        let hosts = Fixture.hosts(staging: 0, prod: 3)
        let c = Fixture.coordinator(pb, hosts, world: world, clock: ManualClock(), sink: sink)
        #expect(try await c.run(opening: Fixture.header(c)) == .halted)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("p3")?.outcome == .skippedAfterHalt)
        let work = ResumePlanner.work(for: record, retryFailed: false)
        #expect(work == ["p1": RolloutMachine.Work.none, "p2": RolloutMachine.Work.none, "p3": .run])
        #expect(ResumePlanner.work(for: record, retryFailed: true)["p2"] == .resume(.resume(record.host("p2")!.position)))
        let p1Calls = world.commands("p1").count
        let c2 = Fixture.coordinator(pb, hosts, world: world, clock: ManualClock(), sink: sink, lastSeq: c.lastSeq)
        #expect(
            try await c2.run(
                opening: .resumed(user: "t", machine: "m", retryFailed: false), record: record, work: work,
                failedBefore: ResumePlanner.failedBefore(record, retryFailed: false)) == .failed)
        #expect(world.commands("p1").count == p1Calls)
        #expect(world.running("p3") == "1.2.0")
    }

    @Test("manual gate: not approved stops before prod (resumable); approved goes on")
    func gate() async throws {
        let world = World([("s1", "1.1.0"), ("p1", "1.1.0")])
        let sink = RecordingSink()
        let pb = Fixture.playbook(gate: .manual)
        let hosts = Fixture.hosts(staging: 1, prod: 1)
        let c = Fixture.coordinator(pb, hosts, world: world, clock: ManualClock(), sink: sink, gateKeeper: FixedGateKeeper(approved: []))
        #expect(try await c.run(opening: Fixture.header(c)) == .waitingForApproval)
        #expect(world.commands("p1").isEmpty)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.gates["staging"] == .notApproved)
        let c2 = Fixture.coordinator(
            pb, hosts, world: world, clock: ManualClock(), sink: sink,
            gateKeeper: FixedGateKeeper(approved: ["staging"]), lastSeq: c.lastSeq)
        let work = ResumePlanner.work(for: record, retryFailed: false)
        #expect(
            try await c2.run(
                opening: .resumed(user: "t", machine: "m", retryFailed: false), record: record, work: work,
                gatesPassed: ResumePlanner.gatesPassed(record)) == .succeeded)
        #expect(world.commands("s1").filter { $0.hasPrefix("install") }.count == 1)
    }

    @Test("soak: waits on the clock, re-checks the stage's health; an unhealthy host halts before prod")
    func soak() async throws {
        let world = World([("s1", "1.1.0"), ("s2", "1.1.0"), ("p1", "1.1.0")])
        let sink = RecordingSink()
        let clock = ManualClock()
        let c = Fixture.coordinator(
            Fixture.playbook(batch: [.count(2)], gate: .soak(.seconds(300))), Fixture.hosts(staging: 2, prod: 1),
            world: world, clock: clock, sink: sink)
        let run = Task { try await c.run(opening: Fixture.header(c)) }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == ManualClock.Instant(offset: .seconds(300)))
        // s2 breaks while staging soaks.
        world.state.sick.withLock { _ = $0.insert("s2") }
        #expect(world.commands("p1").isEmpty)
        let outcome = try await drive(clock, while: run)
        #expect(outcome == .halted)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("s1")?.health.last?.context == "soak of staging for 5m")
        #expect(record.host("s2")?.health.last?.healthy == false)
        #expect(record.gates["staging"] == .soakFailed)
        #expect(record.haltReason == "after a soak of 5m, unhealthy in staging: s2")
        #expect(record.host("p1")?.outcome == .skippedAfterHalt)
        #expect(world.commands("p1").isEmpty)
    }

    @Test("a soak in a resumed run checks the stage's hosts that finished in the earlier part (the live record has them)")
    func soakAfterResume() async throws {
        let world = World([("s1", "1.1.0"), ("s2", "1.1.0"), ("p1", "1.1.0")])
        let sink = RecordingSink()
        let clock = ManualClock()
        let pb = Fixture.playbook(batch: [.count(2)], gate: .soak(.seconds(300)))
        let hosts = Fixture.hosts(staging: 2, prod: 1)
        let c = Fixture.coordinator(pb, hosts, world: world, clock: clock, sink: sink)
        let run = Task { try await c.run(opening: Fixture.header(c)) }
        await clock.waitForSleepers(1)  // staging is done; the soak waits
        c.interrupt()
        #expect(try await run.value == .interrupted)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.gates["staging"] == nil && record.host("s1")?.outcome == .upgraded)

        let clock2 = ManualClock()
        let c2 = Fixture.coordinator(pb, hosts, world: world, clock: clock2, sink: sink, lastSeq: c.lastSeq)
        let resumed = Task {
            try await c2.run(
                opening: .resumed(user: "t", machine: "m", retryFailed: false), record: record,
                work: ResumePlanner.work(for: record, retryFailed: false))
        }
        #expect(try await drive(clock2, while: resumed) == .succeeded)
        let after = try RunRecord(entries: sink.entries)
        #expect(after.gates["staging"] == .soaked)
        for h in ["s1", "s2"] { #expect(after.host(h)?.health.last?.context == "soak of staging for 5m", "\(h)") }
        #expect(c2.record == after)
    }

    @Test("soak with no health probes: it waits, then passes (nothing to check again), and prod starts")
    func soakWithoutProbes() async throws {
        let world = World([("s1", "1.1.0"), ("p1", "1.1.0")])
        let sink = RecordingSink()
        let clock = ManualClock()
        var pb = Fixture.playbook(gate: .soak(.seconds(60)))
        pb.health = []
        let c = Fixture.coordinator(pb, Fixture.hosts(staging: 1, prod: 1), world: world, clock: clock, sink: sink)
        #expect(try await drive(clock, while: Task { try await c.run(opening: Fixture.header(c)) }) == .succeeded)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.gates["staging"] == .soaked)
        #expect(world.running("p1") == "1.2.0")
    }

    @Test("secrets never reach the journal: not in commands, not in output that echoes them")
    func secrets() async throws {
        let world = World([("p1", "1.1.0")])
        let sink = RecordingSink()
        let pb = Fixture.playbook(
            extraSteps: [Step(name: "say", action: .run(Fixture.t("echo {{ db_password }}")))],
            vars: ["db_password": .string("hunter2-s3cret")], secret: ["db_password"])
        let c = Fixture.coordinator(pb, Fixture.hosts(staging: 0, prod: 1), world: world, clock: ManualClock(), sink: sink)
        #expect(try await c.run(opening: Fixture.header(c)) == .succeeded)
        #expect(world.commands("p1").contains("echo [REDACTED]"))  // the display; the script had the value
        let say = try #require(try RunRecord(entries: sink.entries).host("p1")?.steps.first { $0.step.name == "say" })
        #expect(say.stdout == "[REDACTED]\n")
        #expect(!"\(sink.entries)".contains("hunter2"))
    }

    @Test("retries: a step that fails once runs again and the host goes on")
    func retries() async throws {
        let count = Mutex(0)
        let executor = ScriptedExecutor { _, c in
            if c.script == "flaky" {
                let n = count.withLock {
                    $0 += 1; return $0
                }
                return .result(CommandResult(exitStatus: n == 1 ? 1 : 0))
            }
            if c.script == "app version" {
                return .result(CommandResult(exitStatus: 0, stdout: CapturedOutput(count.withLock { $0 } >= 2 ? "1.2.0" : "1.1.0")))
            }
            return .result(CommandResult(exitStatus: 0))
        }
        var pb = Fixture.playbook(batch: [.count(1)])
        pb.steps = [.step(Step(name: "flaky", action: .run(Fixture.t("flaky")), retries: 1))]
        pb.health = []
        let world = World([("p1", "1.1.0")])
        let sink = RecordingSink()
        let base = Fixture.coordinator(pb, Fixture.hosts(staging: 0, prod: 1), world: world, clock: ManualClock(), sink: sink)
        let c = Coordinator(setup: base.setup, executor: executor, clock: ManualClock(), sink: sink, startedAt: "2026-12-02T00:00:00.000Z")
        #expect(try await c.run(opening: Fixture.header(c)) == .succeeded)
        let steps = try #require(try RunRecord(entries: sink.entries).host("p1")?.steps)
        #expect(steps.map(\.step.attempt) == [1, 2])
        #expect(steps.map(\.succeeded) == [false, true])
    }

    @Test("a journal that cannot be written stops the run: nothing goes unrecorded")
    func journalFull() async throws {
        let world = World([("p1", "1.1.0"), ("p2", "1.1.0"), ("p3", "1.1.0")])
        let sink = RecordingSink(failAfter: 6)
        let c = Fixture.coordinator(
            Fixture.playbook(batch: [.count(1)]), Fixture.hosts(staging: 0, prod: 3),
            world: world, clock: ManualClock(), sink: sink)
        await #expect(throws: RunJournalError.self) { try await c.run(opening: Fixture.header(c)) }
        #expect(world.commands("p3").isEmpty)
    }
}
