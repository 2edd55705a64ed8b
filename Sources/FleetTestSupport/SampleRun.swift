import FleetCore

/// A fixed journal of a halted two-stage Mattermost run, for the report goldens and the
/// `fleetup report`/`fleetup runs` tests: staging passes (one host upgraded, one already
/// current), the manual gate is approved, prod's canary upgrades over three hops, then in
/// prod batch 2 one host is unreachable (which halts the run), one fails before the point of
/// no return and is rolled back, one fails its health check past the point of no return (a
/// restore hint), and batch 3 is skipped after the halt. Output holds unicode, markup and a
/// terminal colour code; the database password is `[REDACTED]` as the coordinator writes it.
public enum SampleRun {
    public static let id = "20261202-031501-3f2a"
    public static let start = "2026-12-02T03:15:01.250Z"

    public static let header = RunHeader(
        id: id, user: "alice", machine: "ops1", fleetupVersion: "0.1.0", playbook: "mattermost",
        playbookFile: "/srv/fleet/playbooks/mattermost.yml", inventories: ["/srv/fleet/inventories/mattermost"],
        target: "5.3.0", overrides: ["db_password"], forks: 10,
        policy: "batch [1, 25%, 50%], max_fail_percentage 0, order inventory", pauseMs: 30_000, gate: "manual",
        stages: [
            StagePlan(name: "staging", batches: [["mm-staging-1"], ["mm-staging-2"]], haltAt: [1, 1]),
            StagePlan(
                name: "prod",
                batches: [
                    ["mm-eu-01"], ["mm-eu-02", "mm-eu-03", "mm-eu-04"],
                    ["mm-us-01", "mm-us-02", "mm-us-03"],
                ], haltAt: [1, 1, 1]),
        ], fleetKey: "5b1a3e2f0c4d6e7a")

    /// The journal, in order.
    public static var entries: [JournalEntry] {
        var j = Journal()
        j.add(0, .runStarted(header))
        j.add(40, .stageStarted(stage: "staging"))
        j.add(50, .batchStarted(stage: "staging", batch: 1, hosts: ["mm-staging-1"]))
        j.hop("mm-staging-1", from: "5.2.0", to: "5.3.0", at: 60, started: true, finished: true)
        j.add(31_000, .batchStarted(stage: "staging", batch: 2, hosts: ["mm-staging-2"]))
        j.add(31_010, .hostStarted(host: "mm-staging-2", recheck: false))
        j.add(31_400, .versionRead(host: "mm-staging-2", version: "5.3.0", problem: nil))
        j.add(
            31_420,
            .hostFinished(
                host: "mm-staging-2",
                result: HostResult(
                    outcome: .alreadyCurrent, versionBefore: "5.3.0",
                    versionAfter: "5.3.0", path: ["5.3.0"])))
        j.add(95_000, .gate(stage: "staging", next: "prod", decision: .approved, detail: "approved on the terminal by alice"))
        j.add(95_010, .stageStarted(stage: "prod"))
        j.add(95_020, .batchStarted(stage: "prod", batch: 1, hosts: ["mm-eu-01"]))
        j.hop("mm-eu-01", from: "5.0.0", to: "5.1.0", at: 95_030, started: true, finished: false)
        j.hop("mm-eu-01", from: "5.1.0", to: "5.2.0", at: j.last + 10, started: false, finished: false)
        j.hop(
            "mm-eu-01", from: "5.2.0", to: "5.3.0", at: j.last + 10, started: false, finished: true,
            path: ["5.0.0", "5.1.0", "5.2.0", "5.3.0"])
        let b2 = j.last + 30_000
        j.add(b2, .batchStarted(stage: "prod", batch: 2, hosts: ["mm-eu-02", "mm-eu-03", "mm-eu-04"]))
        // Batch 2 starts together; mm-eu-03 is unreachable at once and halts the run.
        for (i, h) in ["mm-eu-02", "mm-eu-03", "mm-eu-04"].enumerated() { j.add(b2 + 5 + i, .hostStarted(host: h, recheck: false)) }
        j.add(
            b2 + 3_050,
            .hostFinished(
                host: "mm-eu-03",
                result: HostResult(
                    outcome: .unreachable, message: "unreachable: mm-eu-03.chat.example.com:22: connection refused (4 attempts)")))
        let reason = "1 of 3 hosts in the batch failed, more than max_fail_percentage 0%"
        j.add(b2 + 3_060, .halted(reason: reason))
        j.add(b2 + 3_061, .hostsSkipped(hosts: ["mm-us-01", "mm-us-02", "mm-us-03"], reason: "the run halted: \(reason)"))
        // mm-eu-02: the archive is truncated; nothing migrated yet, so it is rolled back.
        j.add(b2 + 3_100, .versionRead(host: "mm-eu-02", version: "5.0.0", problem: nil))
        j.add(b2 + 3_110, .hopStarted(host: "mm-eu-02", from: "5.0.0", to: "5.1.0"))
        var t = j.steps("mm-eu-02", from: "5.0.0", to: "5.1.0", at: b2 + 3_120, count: 3)
        let unpack = StepRef(
            phase: .upgrade, from: "5.0.0", to: "5.1.0", index: 3, name: "unpack the release over the install",
            command:
                "tar -xzf /tmp/mattermost-5.1.0-mm-eu-02.tar.gz -C /opt/mattermost --strip-components=1 && rm -f /tmp/mattermost-5.1.0-mm-eu-02.tar.gz"
        )
        j.add(t, .stepStarted(host: "mm-eu-02", step: unpack))
        j.add(
            t + 1_200,
            .stepFinished(
                host: "mm-eu-02",
                record: StepRecord(
                    step: unpack, exitStatus: 2, durationMs: 1_200,
                    stderr:
                        "gzip: stdin: unexpected end of file\ntar: Unexpected EOF in archive\ntar: Error is not recoverable: exiting now\n")
            ))
        t += 1_210
        for (i, (name, command)) in [
            ("restore the install", "tar -xzf /var/backups/mattermost/5.0.0/install.tar.gz -C /opt/mattermost"),
            ("restore config.json", "cp -p /var/backups/mattermost/5.0.0/config.json /opt/mattermost/config/config.json"),
            ("start the old release", "sudo -n -- sh -c 'systemctl start mattermost'"),
        ].enumerated() {
            let ref = StepRef(phase: .rollback, from: "5.0.0", to: "5.1.0", index: i, name: name, command: command)
            j.add(t, .stepStarted(host: "mm-eu-02", step: ref))
            j.add(t + 800, .stepFinished(host: "mm-eu-02", record: StepRecord(step: ref, exitStatus: 0, durationMs: 800)))
            t += 810
        }
        j.add(
            t,
            .hostFinished(
                host: "mm-eu-02",
                result: HostResult(
                    outcome: .rolledBack, versionBefore: "5.0.0", versionAfter: "5.0.0", path: ["5.0.0", "5.1.0", "5.2.0", "5.3.0"],
                    message: "step \"unpack the release over the install\" of 5.0.0 -> 5.1.0 exit 2")))
        // mm-eu-04: started the new release (the point of no return), then never got healthy.
        j.add(b2 + 3_150, .versionRead(host: "mm-eu-04", version: "5.2.0", problem: nil))
        j.add(b2 + 3_160, .hopStarted(host: "mm-eu-04", from: "5.2.0", to: "5.3.0"))
        t = j.steps("mm-eu-04", from: "5.2.0", to: "5.3.0", at: b2 + 3_170, count: 5)
        let probe = ProbeRecord(
            target: "http://127.0.0.1:8065/api/v4/system/ping", expectation: "status 200, body contains \"status\":\"OK\"",
            healthy: false, verdict: "3 consecutive failures",
            attempts: [
                ProbeAttempt(atMs: 0, durationMs: 2, passed: false, detail: "connection refused"),
                ProbeAttempt(atMs: 2_000, durationMs: 1_000, passed: false, detail: "timed out after 1s"),
                ProbeAttempt(
                    atMs: 4_000, durationMs: 31, passed: false,
                    detail: "status 500, 63 bytes: {\"id\":\"app.migration\",\"message\":\"Migration fehlgeschlagen <ChannelId>\"}"),
            ],
            logs: "2026-12-02T03:18:47Z \u{1b}[31mERROR\u{1b}[0m Migration fehlgeschlagen: Spalte „ChannelId“ existiert nicht\n"
                + "2026-12-02T03:18:47Z ERROR 数据库迁移失败 ✗ <script>alert('x')</script> & exit\n")
        j.add(
            t + 5_100,
            .healthChecked(
                host: "mm-eu-04",
                record: HealthRecord(
                    context: "after 5.2.0 -> 5.3.0", healthy: false,
                    probes: [probe], durationMs: 5_031)))
        j.add(
            t + 5_110,
            .hostFinished(
                host: "mm-eu-04",
                result: HostResult(
                    outcome: .failed, versionBefore: "5.2.0", path: ["5.2.0", "5.3.0"],
                    message: "health check failed after 5.2.0 -> 5.3.0: http://127.0.0.1:8065/api/v4/system/ping: 3 consecutive failures",
                    restore: "5.2.0 -> 5.3.0 went past its point of no return (step \"start\"), so nothing was rolled back; restore 5.2.0 "
                        + "from the backups this hop took: \"back up the database (postgres)\": PGPASSWORD=[REDACTED] pg_dump -h localhost "
                        + "-U mmuser -Fc -f /var/backups/mattermost/5.2.0/db.dump mattermost")))
        j.add(j.last + 20, .runFinished(outcome: .halted))
        return j.entries
    }

    public static var record: RunRecord { try! RunRecord(entries: entries) }

    /// The steps of a hop as the playbook has them (before the upload, after it).
    static let stepNames: [(String, String)] = [
        ("stop", "sudo -n -- sh -c 'systemctl stop mattermost'"),
        (
            "back up the database (postgres)",
            "PGPASSWORD=[REDACTED] pg_dump -h localhost -U mmuser -Fc -f /var/backups/mattermost/{from}/db.dump mattermost"
        ),
        ("upload the release", "upload releases/mattermost-{to}-linux-amd64.tar.gz -> /tmp/mattermost-{to}-{host}.tar.gz (0644)"),
        (
            "unpack the release over the install",
            "tar -xzf /tmp/mattermost-{to}-{host}.tar.gz -C /opt/mattermost --strip-components=1 && rm -f /tmp/mattermost-{to}-{host}.tar.gz"
        ),
        ("start", "sudo -n -- sh -c 'systemctl start mattermost'"),
    ]

    /// Builds the entries with times relative to `start`; hosts of a batch are added one
    /// after the other and interleaved by time at the end, as the coordinator journals them.
    struct Journal {
        var events: [(ms: Int, event: RunEvent)] = []
        /// The latest time added so far.
        var last = 0

        mutating func add(_ ms: Int, _ event: RunEvent) {
            last = max(last, ms)
            events.append((ms, event))
        }

        /// In time order (a stable sort: equal times keep the order they were added in).
        var entries: [JournalEntry] {
            events.enumerated().sorted { ($0.element.ms, $0.offset) < ($1.element.ms, $1.offset) }
                .enumerated().map {
                    JournalEntry(seq: $0.offset + 1, time: SampleRun.time($0.element.element.ms), event: $0.element.element.event)
                }
        }

        /// The first `count` steps of a hop, each passing; returns when the next may start.
        mutating func steps(_ host: String, from: String, to: String, at: Int, count: Int) -> Int {
            var t = at
            for (i, (name, template)) in SampleRun.stepNames.prefix(count).enumerated() {
                let command = template.replacingOccurrences(of: "{from}", with: from).replacingOccurrences(of: "{to}", with: to)
                    .replacingOccurrences(of: "{host}", with: host)
                let ref = StepRef(phase: .upgrade, from: from, to: to, index: i, name: name, command: command)
                let took = name.hasPrefix("back up") ? 6_400 : name == "upload the release" ? 2_300 : 700
                add(t, .stepStarted(host: host, step: ref))
                add(
                    t + took,
                    .stepFinished(
                        host: host,
                        record: StepRecord(
                            step: ref, exitStatus: 0, durationMs: took, stdout: name == "start" ? "started: mattermost ✓\n" : "")))
                t += took + 10
            }
            return t
        }

        /// One whole passing hop with its health check; the host's start and finish when asked.
        mutating func hop(_ host: String, from: String, to: String, at: Int, started: Bool, finished: Bool, path: [String]? = nil) {
            var t = at
            if started {
                add(t, .hostStarted(host: host, recheck: false))
                add(t + 400, .versionRead(host: host, version: from, problem: nil))
                t += 410
            }
            add(t, .hopStarted(host: host, from: from, to: to))
            t = steps(host, from: from, to: to, at: t + 10, count: SampleRun.stepNames.count)
            let probe = ProbeRecord(
                target: "http://127.0.0.1:8065/api/v4/system/ping",
                expectation: "status 200, body contains \"status\":\"OK\"", healthy: true, verdict: "passed",
                attempts: [
                    ProbeAttempt(atMs: 0, durationMs: 1_000, passed: false, detail: "timed out after 1s"),
                    ProbeAttempt(
                        atMs: 2_000, durationMs: 12, passed: true,
                        detail: "status 200, 15 bytes: {\"status\":\"OK\"}"),
                ])
            add(
                t + 2_020,
                .healthChecked(
                    host: host,
                    record: HealthRecord(
                        context: "after \(from) -> \(to)", healthy: true,
                        probes: [probe], durationMs: 2_012)))
            if finished {
                add(t + 2_400, .versionRead(host: host, version: to, problem: nil))
                add(
                    t + 2_410,
                    .hostFinished(
                        host: host,
                        result: HostResult(
                            outcome: .upgraded, versionBefore: path?.first ?? from,
                            versionAfter: to, path: path ?? [from, to])))
            }
        }
    }

    /// `start` plus `ms`.
    public static func time(_ ms: Int) -> WallTime {
        WallTime(iso: start)! + .milliseconds(ms)
    }
}
