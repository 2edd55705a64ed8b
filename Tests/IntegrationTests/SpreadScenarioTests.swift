import FleetCore
import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// `rolling.spread` on real sshd hosts (docs/playbooks.md, "Spread"): two hosts of one
/// cluster are never upgrading at the same time, and the run's batches are plan's.
@Suite("spread: a real run keeps each cluster's hosts apart")
struct SpreadScenarioTests {
    static let spreadBatch = RunScenario.Edit(
        old: "  batch: [1, \"25%\", \"50%\"]  # a canary, then a quarter, then halves of the stage\n",
        new: "  batch: [2]\n  spread: {by: cluster, max_per_batch: 1}\n", why: "batch [2], spread by cluster, max_per_batch 1")
    static let clusters = [
        "prod01": ["cluster": "eu"], "prod02": ["cluster": "eu"], "prod03": ["cluster": "us"], "prod04": ["cluster": "us"],
    ]

    @Test(
        "batch [2], 2 clusters of 2: plan defers prod02, the run uses plan's batches, and no two hosts of a cluster overlap in the journal")
    func clustersApart() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 4)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [Self.spreadBatch], hostVars: Self.clusters)
            let plan = try await TestFleet.runProgram(
                try RunScenario.binary, ["plan", s.playbook] + s.inventories.flatMap { ["-i", $0] })
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(
                plan.stdout.contains("  spread by cluster: at most 1 host of one key in a batch; a host over it waits for the next batch\n")
            )
            #expect(plan.stdout.contains("\n    prod02 waits: prod01 of cluster eu is in batch 1\n"), "\(plan.stdout)")
            let planned = try await s.plannedBatches()
            #expect(planned.map(\.description) == ["staging 1: staging01", "prod 1: prod01,prod03", "prod 2: prod02,prod04"])

            let r = try await s.run(["--yes"])
            #expect(r.status == 0, "\(r.stderr)")
            let events = try s.entries().events
            #expect(events.compactMap(\.batchStarted) == planned)
            // In journal order: a host of a cluster starts only once every other host of it finished.
            var upgrading: [String: String] = [:]  // cluster -> host in flight
            var started = 0
            for e in events {
                if let h = e.hostStarted, let c = Self.clusters[h.host]?["cluster"] {
                    #expect(upgrading[c] == nil, "\(h.host) started while \(upgrading[c] ?? "") of cluster \(c) was upgrading")
                    upgrading[c] = h.host
                    started += 1
                }
                if let f = e.hostFinished, let c = Self.clusters[f.host]?["cluster"], upgrading[c] == f.host { upgrading[c] = nil }
            }
            #expect(started == 4)
            for host in fleet.hosts { #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)") }
        }
    }

    @Test("a limit the batches can never keep: check refuses it with the numbers and the playbook's line, and run changes nothing")
    func infeasible() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 4)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            // batch [0]: the whole stage in one batch, which holds at most 1 of each cluster.
            let oneBatch = RunScenario.Edit(
                old: Self.spreadBatch.old, new: "  batch: [0]\n  spread: {by: cluster, max_per_batch: 1}\n", why: "batch [0], spread")
            let s = try await RunScenario.mattermost(fleet, edits: [oneBatch], hostVars: Self.clusters)
            let line =
                try #require(
                    try String(contentsOfFile: s.playbook, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                        .firstIndex { $0.hasPrefix("  spread:") }) + 1
            let check = try await TestFleet.runProgram(
                try RunScenario.binary, ["check", s.playbook] + s.inventories.flatMap { ["-i", $0] })
            #expect(check.status == 2)
            #expect(
                check.stderr.contains(
                    "\(s.playbook):\(line): rolling.spread by cluster, max_per_batch 1: stage prod's 1 batch cannot keep cluster eu apart: it has 2 hosts, and 1 batch holds at most 1 of them"
                ), "\(check.stderr)")
            let r = try await s.run(["--yes"])
            #expect(r.status == 2, "\(r.stderr)")
            for host in fleet.hosts {
                #expect(try fleet.installedVersion(of: host) == "5.2.0")
                #expect(fleet.serviceLog(of: host).isEmpty)
            }
        }
    }
}
