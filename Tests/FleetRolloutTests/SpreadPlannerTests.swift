import FleetCore
import FleetRollout
import Foundation
import Testing

import struct FleetCore.Host

/// `rolling.spread`: the worked examples of SpreadPlanner's doc, and the limits.
@Suite("spread: hosts of one key kept apart")
struct SpreadPlannerTests {
    /// `a1` has cluster `a`; a name without a digit-suffixed letter (`x`) has no key.
    static func hosts(_ names: String) -> [Host] {
        names.split(separator: " ").map { n in
            let name = String(n)
            let key = name.count > 1 ? String(name.dropLast()) : nil
            return Host(name: name, vars: key.map { ["cluster": .string($0)] } ?? [:], groups: ["zone_" + (key ?? "none")])
        }
    }

    static func cut(
        _ names: String, batch: [BatchSize], max: Int = 1, by: SpreadLimit.Key = .variable("cluster")
    )
        -> SpreadPlanner.Result
    {
        SpreadPlanner.batches(
            hosts: hosts(names), policy: RolloutPolicy(batch: batch, spread: SpreadLimit(by: by, maxPerBatch: max)), stage: "prod")
    }

    static func names(_ r: SpreadPlanner.Result) -> String {
        r.batches.map { $0.map(\.name).joined(separator: " ") }.joined(separator: " | ")
    }

    @Test(
        "the worked examples: Ansible's sizes and order where the limit allows, a host deferred where it does not",
        arguments: [
            // batch [2]: a2 waits for batch 2.
            ("a1 a2 b1 b2", [BatchSize.count(2)], "a1 b1 | a2 b2", [["a2 waits: a1 of cluster a is in batch 1"], []]),
            // batch [1, 3]: batch 1 is full with e1 (e2 never waited: it was not its turn); x
            // has no key; e2 goes in batch 2, e1's batch being over.
            (
                "e1 e2 w1 w2 x", [.count(1), .count(3)], "e1 | e2 w1 x | w2",
                [[], ["w2 waits: w1 of cluster w is in batch 2"], []]
            ),
            // Nothing to defer: the plain batches.
            ("a1 b1 c1 a2 b2 c2", [.count(3)], "a1 b1 c1 | a2 b2 c2", [[], []]),
            // A percentage: 50% of 6 is 3.
            (
                "a1 a2 b1 b2 c1 c2", [.percent(50)], "a1 b1 c1 | a2 b2 c2",
                [["a2 waits: a1 of cluster a is in batch 1", "b2 waits: b1 of cluster b is in batch 1"], []]
            ),
        ])
    func examples(names: String, batch: [BatchSize], expected: String, deferred: [[String]]) {
        let r = Self.cut(names, batch: batch)
        #expect(Self.names(r) == expected)
        #expect(r.deferred.map { $0.map(\.description) } == deferred)
        #expect(r.problem == nil)
    }

    @Test("a limit no batching can keep is a problem with the numbers; the last batch's own overflow is named too")
    func infeasible() {
        // cluster a has 3 hosts, 2 batches, 1 per batch.
        let r = Self.cut("a1 a2 a3 b1 c1 c2", batch: [.count(3)])
        #expect(Self.names(r) == "a1 b1 c1 | a2 a3 c2")
        #expect(
            r.problem
                == "spread by cluster, max_per_batch 1: stage prod's 2 batches cannot keep cluster a apart: it has 3 hosts, and 2 batches hold at most 2 of them (smaller batches make more of them, or raise max_per_batch)"
        )
        // 2 of a in 2 batches would fit, but batch 1 is x's alone and the last takes every host left.
        let last = Self.cut("x a1 a2", batch: [.count(1), .count(0)])
        #expect(Self.names(last) == "x | a1 a2")
        #expect(
            last.problem
                == "spread by cluster, max_per_batch 1: stage prod's 2 batches cannot keep cluster a apart: the last batch, which takes every host left, would hold more than 1 of its 2 hosts (smaller batches, or another order, give it room)"
        )
        // max_per_batch 2 lets it through.
        #expect(Self.cut("a1 a2 a3 b1 c1 c2", batch: [.count(3)], max: 2).problem == nil)
    }

    @Test("by group prefix: the group a host is in among those named alike; a host in two of them has no one key")
    func groups() {
        let r = Self.cut("a1 a2 b1 b2", batch: [.count(2)], by: .groupPrefix("zone_"))
        #expect(Self.names(r) == "a1 b1 | a2 b2")
        #expect(r.deferred[0].map(\.description) == ["a2 waits: a1 of group zone_a is in batch 1"])
        var hosts = Self.hosts("a1 b1")
        hosts[1].groups = ["zone_a", "zone_b"]
        let two = SpreadPlanner.batches(
            hosts: hosts, policy: RolloutPolicy(batch: [.count(1)], spread: SpreadLimit(by: .groupPrefix("zone_"), maxPerBatch: 1)),
            stage: "prod")
        #expect(
            two.problem
                == "spread by group zone_*, max_per_batch 1: host b1 is in zone_a and zone_b, two groups of group zone_*: a host needs one key"
        )
    }

    @Test("without a spread, the plain batches: sizes and order as Ansible's")
    func none() {
        let hosts = Self.hosts("a1 a2 b1 b2 c1")
        let r = SpreadPlanner.batches(hosts: hosts, policy: RolloutPolicy(batch: [.count(2)]), stage: "prod")
        #expect(r.batches == BatchPlanner.batches(hosts: hosts, serial: [.count(2)]))
        #expect(r.deferred.allSatisfy(\.isEmpty) && r.problem == nil)
    }

    @Test("the policy keeps its spread through the journal header's JSON")
    func codable() throws {
        for key in [SpreadLimit.Key.variable("cluster"), .groupPrefix("zone_")] {
            let p = RolloutPolicy(batch: [.count(2)], spread: SpreadLimit(by: key, maxPerBatch: 2))
            let back = try JSONDecoder().decode(RolloutPolicy.self, from: try JSONEncoder().encode(p))
            #expect(back == p)
        }
    }
}
