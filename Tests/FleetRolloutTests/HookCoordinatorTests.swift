import FleetCore
import FleetRollout
import FleetTestSupport
import Synchronization
import Testing

/// Hooks answered by a script: each call recorded with its context; a hook named `fail`
/// exits 1, and one named `fail-on-STAGE` does so for that stage only.
final class ScriptedHooks: HookRunner {
    let calls = Mutex<[(HookSpec, HookContext)]>([])

    func run(_ hook: HookSpec, context: HookContext) async -> HookRecord {
        calls.withLock { $0.append((hook, context)) }
        return HookRecord(
            point: context.point, name: hook.name, stage: context.stage, batch: context.batch,
            status: hook.name == "fail" || hook.name == "fail-on-\(context.stage ?? "")" ? 1 : 0, output: "said \(hook.name)\n",
            durationMs: 5)
    }

    var points: [String] { calls.withLock { $0.map { "\($0.1.point.rawValue) \($0.0.name)\($0.1.stage.map { " " + $0 } ?? "")" } } }
}

@Suite("coordinator: hooks on the run's events, journaled")
struct HookCoordinatorTests {
    static func hook(_ name: String) -> HookSpec { HookSpec(name: name, run: Fixture.t("true")) }

    /// A coordinator of a playbook with these hooks over s1, p1, p2 on 1.1.0, with its
    /// scripted hooks, journal and world.
    static func setUp(_ hooks: [HookPoint: [HookSpec]]) -> (Coordinator<ManualClock>, ScriptedHooks, RecordingSink, World) {
        let runner = ScriptedHooks(), sink = RecordingSink()
        let world = World([("s1", "1.1.0"), ("p1", "1.1.0"), ("p2", "1.1.0")])
        var book = Fixture.playbook(batch: [.count(1)])
        book.hooks = hooks
        let hosts = Fixture.hosts(staging: 1, prod: 2)
        let stages = [
            StageHosts(name: "staging", hosts: hosts.filter { $0.groups.contains("staging") }),
            StageHosts(name: "prod", hosts: hosts.filter { $0.groups.contains("prod") }),
        ]
        let plan = RolloutPlanner.plan(book, stages: stages, target: Version("1.2.0")!, versions: [:], versionSource: .detected)
        let header = RunHeader(
            id: "run-h", user: "test", machine: "box", fleetupVersion: "0", plan: plan, playbookFile: book.file, inventories: ["/i"],
            forks: 10)
        var setup = RunSetup(playbook: book, hosts: hosts, target: Version("1.2.0")!, header: header)
        setup.hookRunner = runner
        let c = Coordinator(setup: setup, executor: world.executor, clock: ManualClock(), sink: sink, startedAt: "2026-12-02T00:00:00.000Z")
        return (c, runner, sink, world)
    }

    @Test("every point, in the run's order, with its context; each hook in the journal and the record")
    func order() async throws {
        let (c, runner, sink, _) = Self.setUp(
            [
                .beforeRun: [Self.hook("check")], .beforeStage: [Self.hook("announce")], .afterBatch: [Self.hook("batch")],
                .afterRun: [Self.hook("tell")],
            ])
        #expect(try await c.run(opening: Fixture.header(c)) == .succeeded)
        #expect(
            runner.points == [
                "before_run check", "before_stage announce staging", "after_batch batch staging", "before_stage announce prod",
                "after_batch batch prod", "after_batch batch prod", "after_run tell",
            ])
        let afterRun = try #require(runner.calls.withLock { $0.last?.1 })
        #expect(afterRun.outcome == .succeeded && afterRun.runID == "run-h")
        // The journal holds each hook before what it guarded: prod's hook before prod's first host.
        let events = sink.events
        let prodHook = try #require(
            events.firstIndex {
                if case .hookRan(let r) = $0 { return r.stage == "prod" && r.point == .beforeStage }; return false
            })
        let prodStart = try #require(
            events.firstIndex {
                if case .stageStarted("prod") = $0 { return true }; return false
            })
        #expect(prodHook < prodStart)
        let record = try RunRecord(entries: sink.entries)
        #expect(record.actions.filter { $0.kind == .hook }.count == 7)
        #expect(record.actions.last { $0.kind == .hook }?.hook?.output == "said tell\n")
    }

    @Test("a before_stage hook that fails on prod: no host of prod is touched, the run halts, on_halt is told why")
    func beforeStageFails() async throws {
        let (c, runner, sink, world) = Self.setUp(
            [.beforeStage: [Self.hook("ok"), Self.hook("fail-on-prod")], .onHalt: [Self.hook("page")], .afterRun: [Self.hook("tell")]])
        let outcome = try await c.run(opening: Fixture.header(c))
        #expect(outcome == .halted)
        #expect(world.running("s1") == "1.2.0")
        #expect(world.commands("p1").isEmpty && world.commands("p2").isEmpty, "nothing ran on prod's hosts")
        let record = try RunRecord(entries: sink.entries)
        #expect(record.host("p1")?.outcome == .skippedAfterHalt && record.host("p2")?.outcome == .skippedAfterHalt)
        #expect(record.haltReason == #"before_stage hook "fail-on-prod" (prod): exit 1"#)
        let onHalt = try #require(runner.calls.withLock { $0.first { $0.1.point == .onHalt }?.1 })
        #expect(onHalt.reason == record.haltReason)
        #expect(runner.calls.withLock { $0.last?.1.outcome } == .halted)
    }
}
