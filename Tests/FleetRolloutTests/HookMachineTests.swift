import FleetCore
import FleetRollout
import Testing

/// The machine's part of hooks (docs/playbooks.md, "Hooks"): `before_run` and
/// `before_stage` are asked before anything of what they guard starts, and a failing one
/// halts the run there with every host not started skipped; `after_batch` is said once per
/// batch that ends with the run going on.
@Suite("rollout machine: hooks")
struct HookMachineTests {
    static let stages = [
        StagePlan(name: "staging", batches: [["s1"]], haltAt: [1]),
        StagePlan(name: "prod", batches: [["p1", "p2"], ["p3"]], haltAt: [1, 1]),
    ]

    static func machine(run: Bool = false, stage: Bool = false, batches: Bool = false) -> RolloutMachine {
        RolloutMachine(
            stages: stages, policy: FailurePolicy(maxFailPercentage: 0), forks: 10, checksRun: run, checksStages: stage,
            announcesBatches: batches)
    }

    @Test("before_run: asked first; passing starts the first stage, failing skips every host and halts")
    func beforeRun() throws {
        var m = Self.machine(run: true)
        #expect(try m.handle(.start) == [.check(point: .beforeRun, stage: nil)])
        #expect(m.phase == .checking && m.inFlight.isEmpty)
        let ok = try m.handle(.checked(passed: true, reason: nil))
        #expect(
            ok == [
                .startStage(stage: "staging"), .startBatch(stage: "staging", batch: 1, hosts: ["s1"]),
                .startHost(host: "s1", resume: false),
            ])

        var refused = Self.machine(run: true)
        _ = try refused.handle(.start)
        let why = #"before_run hook "freeze window" : exit 1"#
        #expect(
            try refused.handle(.checked(passed: false, reason: why)) == [
                .halt(reason: why), .skip(hosts: ["s1", "p1", "p2", "p3"], reason: "the run halted: \(why)"), .finish(.halted),
            ])
    }

    @Test("before_stage: asked before each stage starts; failing on prod skips prod's hosts only (staging is done)")
    func beforeStage() throws {
        var m = Self.machine(stage: true)
        #expect(try m.handle(.start) == [.check(point: .beforeStage, stage: "staging")])
        _ = try m.handle(.checked(passed: true, reason: nil))
        // staging's host ends: the open gate, then prod's hooks before anything of prod starts.
        #expect(
            try m.handle(.hostFinished(host: "s1", outcome: .upgraded)) == [
                .gatePassed(stage: "staging", next: "prod", decision: .open, detail: nil), .check(point: .beforeStage, stage: "prod"),
            ])
        #expect(m.inFlight.isEmpty)
        let actions = try m.handle(.checked(passed: false, reason: "prod is frozen"))
        #expect(
            actions == [
                .halt(reason: "prod is frozen"), .skip(hosts: ["p1", "p2", "p3"], reason: "the run halted: prod is frozen"),
                .finish(.halted),
            ])
    }

    @Test("a stage's hooks are asked once: its second batch starts without asking again")
    func oncePerStage() throws {
        var m = Self.machine(stage: true)
        _ = try m.handle(.start)
        _ = try m.handle(.checked(passed: true, reason: nil))
        _ = try m.handle(.hostFinished(host: "s1", outcome: .upgraded))
        let prod = try m.handle(.checked(passed: true, reason: nil))
        #expect(prod.first == .startStage(stage: "prod"))
        _ = try m.handle(.hostFinished(host: "p1", outcome: .upgraded))
        let next = try m.handle(.hostFinished(host: "p2", outcome: .upgraded))
        #expect(next == [.startBatch(stage: "prod", batch: 2, hosts: ["p3"]), .startHost(host: "p3", resume: false)])
    }

    @Test("Ctrl-C while hooks run: nothing starts, the run ends interrupted with every host pending")
    func drainWhileChecking() throws {
        var m = Self.machine(run: true)
        _ = try m.handle(.start)
        #expect(try m.handle(.drain) == [.cancelWaits, .finish(.interrupted)])
        #expect(throws: MachineError.self) { try m.handle(.checked(passed: true, reason: nil)) }
    }

    @Test("after_batch: said for each batch that ended with the run going on, before the next starts")
    func afterBatch() throws {
        var m = Self.machine(batches: true)
        _ = try m.handle(.start)
        let staging = try m.handle(.hostFinished(host: "s1", outcome: .upgraded))
        #expect(staging.first == .batchFinished(stage: "staging", batch: 1, hosts: ["s1"]))
        _ = try m.handle(.hostFinished(host: "p1", outcome: .upgraded))
        let prod1 = try m.handle(.hostFinished(host: "p2", outcome: .upgraded))
        #expect(prod1.first == .batchFinished(stage: "prod", batch: 1, hosts: ["p1", "p2"]))
        // A batch that halts the run is not "finished": on_halt says it.
        var halting = Self.machine(batches: true)
        _ = try halting.handle(.start)
        let failed = try halting.handle(.hostFinished(host: "s1", outcome: .failed))
        #expect(!failed.contains { if case .batchFinished = $0 { return true } else { return false } })
        #expect(failed.last == .finish(.halted))
    }
}
