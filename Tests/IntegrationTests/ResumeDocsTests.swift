import FleetConfig
import FleetCore
import FleetRollout
import FleetTestSupport
import Foundation
import Testing

/// docs/runs.md's `fleetup resume --plan` example is what ResumePreview prints for such a
/// journal of playbooks/flow.yml (its steps rendered by the real planner).
@Suite("docs/runs.md: the resume preview")
struct ResumeDocsTests {
    @Test(
        "the example block is the preview of a Flow run: one host mid-migration, one failed after its point of no return, one not started")
    func example() throws {
        let docs = try String(contentsOfFile: PlanCommandTests.root + "/docs/runs.md", encoding: .utf8)
        let block = try #require(docs.components(separatedBy: "```\nresume ").dropFirst().first?.components(separatedBy: "```").first)
        let book = try PlaybookLoader.load(PlanCommandTests.root + "/playbooks/flow.yml")
        let target = try #require(Version("v3.1.2"))
        let names = ["staging01", "staging02", "prod01", "prod02", "prod03", "prod04"]
        let hosts = Dictionary(
            uniqueKeysWithValues: names.map { ($0, Host(name: $0, groups: [$0.hasPrefix("staging") ? "staging" : "prod"])) })
        let plan = RolloutPlanner.hostPlan(
            hosts["staging01"]!, stage: "staging", batch: 1, playbook: book, target: target,
            observed: .known("v3.1.1", .detected))
        guard case .upgrade(let hops) = plan.outcome, let hop = hops.first else { Issue.record("\(plan.outcome)"); return }
        func ref(_ i: Int) -> StepRef {
            StepRef(phase: .upgrade, from: hop.from, to: hop.to, index: i, name: hop.steps[i].name, command: hop.steps[i].action.display)
        }
        let header = RunHeader(
            id: "20261207-031501-3f2a", user: "alice", machine: "ops1", fleetupVersion: "0", playbook: "flow",
            playbookFile: "/p/flow.yml", inventories: ["/i"], target: "v3.1.2", forks: 20, policy: "",
            stages: [
                StagePlan(name: "staging", batches: [["staging01", "staging02"]], haltAt: [1]),
                StagePlan(name: "prod", batches: [["prod01", "prod02", "prod03", "prod04"]], haltAt: [2]),
            ])
        var events: [RunEvent] = [.runStarted(header)]
        // Mid-hop: its first steps done, the migration started when fleetup was killed.
        events += [
            .hostStarted(host: "staging01", recheck: false), .versionRead(host: "staging01", version: "v3.1.1", problem: nil),
            .hopStarted(host: "staging01", from: hop.from, to: hop.to),
        ]
        for i in 0..<2 {
            events += [
                .stepStarted(host: "staging01", step: ref(i)),
                .stepFinished(host: "staging01", record: StepRecord(step: ref(i), exitStatus: 0)),
            ]
        }
        events.append(.stepStarted(host: "staging01", step: ref(2)))
        // Failed at `reload web`, after `restart sidekiq` (no_return).
        let reload = try #require(hop.steps.firstIndex { $0.name == "reload web" })
        events += [
            .hostStarted(host: "prod02", recheck: false), .versionRead(host: "prod02", version: "v3.1.1", problem: nil),
            .hopStarted(host: "prod02", from: hop.from, to: hop.to),
        ]
        for i in 0..<reload {
            events += [
                .stepStarted(host: "prod02", step: ref(i)), .stepFinished(host: "prod02", record: StepRecord(step: ref(i), exitStatus: 0)),
            ]
        }
        events += [
            .stepStarted(host: "prod02", step: ref(reload)),
            .stepFinished(host: "prod02", record: StepRecord(step: ref(reload), exitStatus: 1)),
            .hostFinished(host: "prod02", result: HostResult(outcome: .failed)),
        ]
        for h in ["staging02", "prod01", "prod04"] {
            events += [.hostStarted(host: h, recheck: false), .hostFinished(host: h, result: HostResult(outcome: .upgraded))]
        }
        let record = try RunRecord(
            entries: events.enumerated().map { JournalEntry(seq: $0.offset + 1, time: SampleRun.time(0), event: $0.element) })
        let work = ResumePlanner.work(for: record, retryFailed: false)
        let lines = ResumePreview.lines(record, work: work, playbook: book, hosts: hosts, target: target)
        #expect("resume " + block == ResumePreview.header(record) + "\n" + lines.map { "  \($0)\n" }.joined())
    }
}
