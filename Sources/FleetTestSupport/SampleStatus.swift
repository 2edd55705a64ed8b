import FleetCore

/// A fixed fleet status for the status report goldens: the hosts of `SampleRun` the day after
/// its halted run. Two versions (5.3.0 and 5.0.0), one unreachable host (mm-eu-03), one
/// unhealthy (mm-eu-04: its app answers 503, with a log tail holding unicode and markup), one
/// version that could not be read; every last run is `SampleRun`'s (mm-us-01, skipped after
/// the halt there, has none).
public enum SampleStatus {
    public static let generatedAt = WallTime(iso: "2026-12-03T09:30:00.125Z")!

    static func healthy(_ port: Int = 8065) -> HealthRecord {
        HealthRecord(
            context: "status", healthy: true,
            probes: [
                ProbeRecord(
                    target: "http://127.0.0.1:\(port)/api/v4/system/ping", expectation: "status 200, body contains \"status\":\"OK\"",
                    healthy: true, verdict: "passed",
                    attempts: [ProbeAttempt(atMs: 0, durationMs: 3, passed: true, detail: "status 200, 15 bytes: {\"status\":\"OK\"}")])
            ], durationMs: 3)
    }

    static let sick = HealthRecord(
        context: "status", healthy: false,
        probes: [
            ProbeRecord(
                target: "http://127.0.0.1:8065/api/v4/system/ping", expectation: "status 200, body contains \"status\":\"OK\"",
                healthy: false, verdict: "3 consecutive failures",
                attempts: [0, 2_000, 4_000].map {
                    ProbeAttempt(atMs: $0, durationMs: 4, passed: false, detail: "status 503, 17 bytes: {\"status\":\"DOWN\"}")
                },
                logs: "2026-12-03T09:29:58Z ERROR 数据库连接失败 ✗ <db> & retry\n")
        ], durationMs: 4_004)

    public static let hosts: [StatusHost] = {
        var hosts = [
            StatusHost(name: "mm-staging-1", stage: "staging", reachable: true, version: "5.3.0", health: healthy()),
            StatusHost(name: "mm-staging-2", stage: "staging", reachable: true, version: "5.3.0", health: healthy()),
            StatusHost(name: "mm-eu-01", stage: "prod", reachable: true, version: "5.3.0", health: healthy()),
            StatusHost(name: "mm-eu-02", stage: "prod", reachable: true, version: "5.0.0", health: healthy()),
            StatusHost(
                name: "mm-eu-03", stage: "prod", reachable: false,
                error: "unreachable: mm-eu-03.chat.example.com:22: connection refused (4 attempts)",
                versionProblem: "not read: unreachable", healthProblem: "not checked: unreachable"),
            StatusHost(name: "mm-eu-04", stage: "prod", reachable: true, version: "5.3.0", health: sick),
            StatusHost(name: "mm-us-01", stage: "prod", reachable: true, version: "5.0.0", health: healthy()),
            StatusHost(
                name: "mm-us-02", stage: "prod", reachable: true,
                versionProblem: "version command exit 127: sh: 1: /opt/mattermost/bin/platform: not found", health: healthy()),
        ]
        let last = LastRun.find(for: hosts.map(\.name), in: [SampleRun.record])
        for i in hosts.indices { hosts[i].lastRun = last[hosts[i].name] }
        return hosts
    }()

    public static let status = FleetStatus(
        generatedAt: generatedAt, durationMs: 4_210, inventories: ["/srv/fleet/inventories/mattermost"], playbook: "mattermost",
        playbookFile: "/srv/fleet/playbooks/mattermost.yml", target: "5.3.0", versionSource: .playbook,
        stages: ["staging", "prod"], hosts: hosts)

    /// Every host reachable, healthy and on the target.
    public static let clean: FleetStatus = {
        var s = status
        s.hosts = s.hosts.map { h in
            var h = h
            h.reachable = true
            h.error = nil
            h.version = "5.3.0"
            h.versionProblem = nil
            h.health = healthy()
            h.healthProblem = nil
            return h
        }
        return s
    }()

    /// No playbook and no --version-cmd: reachability only.
    public static let bare = FleetStatus(
        generatedAt: generatedAt, durationMs: 310, inventories: ["web1,web2,"], stages: ["ungrouped"],
        hosts: [
            StatusHost(
                name: "web1", stage: "ungrouped", reachable: true, versionProblem: "no version command (give a playbook or --version-cmd)",
                healthProblem: "no playbook: no health probes"),
            StatusHost(
                name: "web2", stage: "ungrouped", reachable: false, error: "host-key-unknown: web2:22: the host key is not in known_hosts",
                versionProblem: "not read: unreachable", healthProblem: "not checked: unreachable"),
        ])
}
