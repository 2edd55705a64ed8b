import FleetCore
import FleetTestSupport
import Testing

/// What a `FleetStatus` derives from its hosts: the distribution, drift, who fails and why,
/// and the last run of each host from stored run records.
@Suite("fleet status: distribution, drift, problems, last runs")
struct FleetStatusTests {
    static func status(_ versions: [String?], target: String? = "5.10.0", requireTarget: Bool = false) -> FleetStatus {
        let hosts = versions.enumerated().map { i, v in
            StatusHost(name: "h\(i + 1)", stage: i < 2 ? "staging" : "prod", reachable: true, version: v)
        }
        return FleetStatus(
            generatedAt: "2026-12-03T00:00:00.000Z", durationMs: 1, inventories: ["i"], playbook: "app",
            target: target, requireTarget: requireTarget, stages: ["staging", "prod"], hosts: hosts)
    }

    @Test("versions sort as releases (5.9.1 before 5.10.0; v5.10.0 is 5.10.0), texts that are not versions next, unknown last")
    func distribution() {
        let s = Self.status(["5.10.0", "5.9.1", "v5.10.0", nil, "nightly", "5.9.1"])
        #expect(s.distribution().map(\.version) == ["5.9.1", "5.10.0", "nightly", nil])
        #expect(s.distribution().map(\.hosts) == [["h2", "h6"], ["h1", "h3"], ["h5"], ["h4"]])
        #expect(s.distribution(stage: "staging").map(\.version) == ["5.9.1", "5.10.0"])
        #expect(s.distribution(stage: "prod").map(\.hosts.count) == [1, 1, 1, 1])
    }

    @Test(
        "drift against the target",
        arguments: [
            // (host version, target, drift)
            ("5.10.0", "5.10.0", Drift.onTarget),
            ("v5.10", "5.10.0", .onTarget),  // written differently, the same release
            ("5.9.1", "5.10.0", .behind),
            ("5.10.0-rc1", "5.10.0", .behind),  // a pre-release comes before its release
            ("5.11.0", "5.10.0", .ahead),
            ("nightly", "5.10.0", .unknown),
        ])
    func drift(version: String, target: String, expected: Drift) {
        let s = Self.status([version], target: target)
        #expect(s.drift(s.hosts[0]) == expected)
    }

    @Test("no target: no drift; a host with no version read is unknown")
    func noTarget() {
        #expect(Self.status(["1.0.0"], target: nil).drift(Self.status(["1.0.0"]).hosts[0]) == nil)
        let s = Self.status([nil])
        #expect(s.drift(s.hosts[0]) == .unknown && s.offTarget.map(\.name) == ["h1"])
    }

    @Test("who fails: unreachable, unhealthy; off the target only when it is required; no probes is not unhealthy")
    func problems() {
        var s = Self.status(["5.10.0", "5.9.1", "5.10.0", "5.10.0"])
        #expect(s.passes, "behind alone passes")
        s.hosts[2].reachable = false
        s.hosts[3].health = HealthRecord(context: "status", healthy: false, probes: [], durationMs: 0)
        #expect(s.problems(s.hosts[2]) == ["unreachable"] && s.problems(s.hosts[3]) == ["unhealthy"])
        #expect(s.unreachable.map(\.name) == ["h3"] && s.unhealthy.map(\.name) == ["h4"])
        #expect(!s.passes)
        s.hosts[2].reachable = true
        s.hosts[3].health = nil
        #expect(s.passes)
        s.requireTarget = true
        #expect(s.problems(s.hosts[1]) == ["off-target"] && !s.passes)
    }

    @Test("last run: the newest run that started the host; skipped-after-halt and pending hosts are not touched")
    func lastRun() throws {
        let sample = SampleRun.record
        let found = LastRun.find(for: ["mm-staging-2", "mm-eu-03", "mm-us-01", "elsewhere"], in: [sample])
        #expect(found["mm-staging-2"]?.outcome == "already-current")
        #expect(found["mm-staging-2"]?.at == sample.host("mm-staging-2")?.finishedAt)
        #expect(found["mm-eu-03"]?.outcome == "unreachable" && found["mm-eu-03"]?.message?.contains("connection refused") == true)
        #expect(found["mm-us-01"] == nil, "skipped after the halt")
        #expect(found["elsewhere"] == nil)

        // A newer run in which mm-eu-03 is mid-run when the journal ends, mm-staging-2 pending.
        let cut = SampleRun.entries.prefix { e in
            if case .hostFinished("mm-eu-03", _) = e.event { return false }
            return true
        }
        var newer = try RunRecord(entries: Array(cut))
        newer.header.id = "20261203-000000-beef"
        let both = LastRun.find(for: ["mm-eu-03", "mm-staging-2"], in: [newer, sample])
        #expect(both["mm-eu-03"]?.runID == "20261203-000000-beef" && both["mm-eu-03"]?.outcome == "running")
        #expect(both["mm-staging-2"]?.runID == "20261203-000000-beef", "finished in the newer run too")
        #expect(both["mm-eu-03"]?.at == newer.host("mm-eu-03")?.startedAt)
    }
}
