import FleetCore
import FleetTestSupport
import Testing

@testable import FleetReports

/// Journals of large runs, made up: a canary stage of 10 hosts, then `batches` batches of
/// prod. In prod's 4th batch one host fails its step, one is unreachable and one is rolled
/// back (the policy lets the run go on), so the run ends failed.
enum LargeRun {
    static let failing = ["failed": 0, "unreachable": 1, "rolled-back": 2]

    static func record(hosts: Int, batches: Int = 10) -> RunRecord {
        let names = (1...hosts).map { "web-\(String(100_000 + $0).dropFirst())" }
        let canary = Array(names.prefix(10))
        let rest = Array(names.dropFirst(10))
        let prod = (0..<batches).map { b in Array(rest[(rest.count * b / batches)..<(rest.count * (b + 1) / batches)]) }
        let header = RunHeader(
            id: "20261203-040000-5a00", user: "alice", machine: "ops1", fleetupVersion: "0.1.0", playbook: "app",
            playbookFile: "/srv/fleet/app.yml", inventories: ["/srv/fleet/hosts.ini"], target: "1.1.0", forks: 500,
            policy: "batch [10, 10%], max_fail_percentage 1, order inventory",
            stages: [
                StagePlan(name: "canary", batches: [canary], haltAt: [1]),
                StagePlan(name: "prod", batches: prod, haltAt: prod.map { $0.count / 100 + 1 }),
            ])
        var events: [(ms: Int, event: RunEvent)] = [(0, .runStarted(header))]
        let install = StepRef(
            phase: .upgrade, from: "1.0.0", to: "1.1.0", index: 0, name: "install", command: "apt-get install -y app=1.1.0")
        let restore = StepRef(
            phase: .rollback, from: "1.0.0", to: "1.1.0", index: 0, name: "reinstall 1.0.0", command: "apt-get install -y app=1.0.0")
        var t = 10
        for (stage, stageBatches) in [("canary", [canary]), ("prod", prod)] {
            events.append((t, .stageStarted(stage: stage)))
            for (b, batch) in stageBatches.enumerated() {
                events.append((t, .batchStarted(stage: stage, batch: b + 1, hosts: batch)))
                let failures = stage == "prod" && b == 3 ? Array(batch.prefix(3)) : []
                for (i, host) in batch.enumerated() {
                    let start = t + 10 + i % 50 * 20
                    events.append((start, .hostStarted(host: host, recheck: false)))
                    if host == failures.dropFirst().first {
                        events.append(
                            (
                                start + 3_000,
                                .hostFinished(
                                    host: host,
                                    result: HostResult(outcome: .unreachable, message: "unreachable: \(host):22: connection refused"))
                            ))
                        continue
                    }
                    events.append((start + 100, .stepStarted(host: host, step: install)))
                    let failed = failures.contains(host)
                    let took = 20_000 + i % 7 * 1_000
                    events.append(
                        (
                            start + 100 + took,
                            .stepFinished(
                                host: host,
                                record: StepRecord(
                                    step: install, exitStatus: failed ? 100 : 0, durationMs: took,
                                    stderr: failed ? "E: Version '1.1.0' for 'app' was not found\n" : ""))
                        ))
                    let done = start + 200 + took
                    if host == failures.first {
                        events.append(
                            (
                                done,
                                .hostFinished(
                                    host: host,
                                    result: HostResult(
                                        outcome: .failed, versionBefore: "1.0.0", path: ["1.0.0", "1.1.0"],
                                        message: "step \"install\" of 1.0.0 -> 1.1.0 exit 100"))
                            ))
                    } else if failed {
                        events.append((done, .stepStarted(host: host, step: restore)))
                        events.append(
                            (done + 900, .stepFinished(host: host, record: StepRecord(step: restore, exitStatus: 0, durationMs: 900))))
                        events.append(
                            (
                                done + 1_000,
                                .hostFinished(
                                    host: host,
                                    result: HostResult(
                                        outcome: .rolledBack, versionBefore: "1.0.0", versionAfter: "1.0.0", path: ["1.0.0", "1.1.0"],
                                        message: "step \"install\" of 1.0.0 -> 1.1.0 exit 100"))
                            ))
                    } else {
                        events.append(
                            (
                                done,
                                .hostFinished(
                                    host: host,
                                    result: HostResult(
                                        outcome: .upgraded, versionBefore: "1.0.0", versionAfter: "1.1.0", path: ["1.0.0", "1.1.0"]))
                            ))
                    }
                }
                t += 40_000
            }
        }
        events.append((t, .runFinished(outcome: .failed)))
        let ordered = events.enumerated().sorted { ($0.element.ms, $0.offset) < ($1.element.ms, $1.offset) }
        return try! RunRecord(
            entries: ordered.enumerated().map {
                JournalEntry(seq: $0.offset + 1, time: SampleRun.time($0.element.element.ms), event: $0.element.element.event)
            })
    }

    /// The hosts that need a look, in the record's order.
    static func failures(_ r: RunRecord) -> [String] { r.hosts.filter { HostStatus($0).needsAttention }.map(\.host) }
}

/// The HTML page of a large run: what a browser draws is bounded, whatever the fleet's size.
@Suite("run report: the HTML of large runs")
struct LargeRunTests {
    /// The timeline's SVG, from its start tag to its end.
    static func timeline(_ html: String) -> Substring {
        let start = html.range(of: "<svg")!.lowerBound
        return html[start..<html.range(of: "</svg>", range: start..<html.endIndex)!.upperBound]
    }

    /// Elements in `text`: its start tags.
    static func elements(_ text: Substring) -> Int {
        text.split(separator: "<", omittingEmptySubsequences: false).dropFirst().filter { !$0.hasPrefix("/") }.count
    }

    @Test("up to 100 hosts a row per host, as before; from 101 a row per batch")
    func threshold() {
        let at = RunReports.render(LargeRun.record(hosts: 100), .html)
        #expect(at.components(separatedBy: "<rect class=\"bar ").count - 1 == 100 && !at.contains("<details"))
        let above = RunReports.render(LargeRun.record(hosts: 101), .html)
        #expect(above.components(separatedBy: "<rect class=\"bar ").count - 1 == 3, "only the hosts that need a look")
        #expect(above.contains("aria-label=\"timeline of the batches\""))
    }

    @Test("the timeline draws as much for 5,000 hosts as for 2,500: a row per batch, the failed hosts on their own")
    func bounded() {
        let big = LargeRun.record(hosts: 5000), half = LargeRun.record(hosts: 2500)
        let svg = Self.timeline(RunReports.render(big, .html))
        #expect(Self.elements(svg) == Self.elements(Self.timeline(RunReports.render(half, .html))))
        #expect(Self.elements(svg) < 150, "\(Self.elements(svg)) elements")
        // 11 batch rows and the 3 failed hosts.
        #expect(svg.components(separatedBy: "<text class=\"batch-label\"").count - 1 == 11)
        #expect(svg.contains("prod · batch 4 · 499 hosts"))
        for host in LargeRun.failures(big) { #expect(svg.contains("data-host=\"\(host)\""), "no bar for \(host)") }
        // Each outcome of prod batch 4 is a band, the failed host's too.
        for (count, status) in [(496, "upgraded"), (1, "failed"), (1, "rolled-back"), (1, "unreachable")] {
            #expect(svg.contains("<rect class=\"band st-\(status)\""))
            #expect(svg.contains("<title>prod · batch 4: \(count) \(status), from +"), "no band of \(status)")
        }
    }

    @Test("hosts: every one in a folded table of its batch; every failure in full")
    func hosts() {
        let r = LargeRun.record(hosts: 5000)
        let html = RunReports.render(r, .html)
        #expect(html.components(separatedBy: "<tr class=\"host ").count - 1 == 5000)
        #expect(html.components(separatedBy: "<details class=\"hosts\"><summary>").count - 1 == 11)
        #expect(!html.contains("<details open"))
        #expect(html.contains("<summary>prod · batch 4 · 499 hosts: 496 upgraded, 1 failed, 1 rolled-back, 1 unreachable</summary>"))
        for host in LargeRun.failures(r) {
            let i = r.hosts.firstIndex { $0.host == host }! + 1
            #expect(html.contains("<article class=\"failure st-") && html.contains("id=\"failure-\(i)\" data-host=\"\(host)\""))
            #expect(html.contains("<td><a href=\"#failure-\(i)\">\(host)</a></td>"))
        }
    }

    @Test("many batches are drawn in runs of consecutive batches: at most 100 rows of them")
    func manyBatches() {
        let r = LargeRun.record(hosts: 3000, batches: 950)
        let svg = Self.timeline(RunReports.render(r, .html))
        let rows = svg.components(separatedBy: "<text class=\"batch-label\"").count - 1
        #expect(rows <= RunTimeline.groupRows + 1 && rows > 50, "\(rows) rows")
        #expect(svg.contains("prod · batches 1–10 · "))
        // Every host still in exactly one group.
        #expect(BatchGroup.all(r).reduce(0) { $0 + $1.hosts.count } == 3000)
    }

    @Test("more hosts that need a look than rows: the first 100 drawn, the rest counted, their details folded")
    func manyFailures() {
        var r = LargeRun.record(hosts: 1000)
        for h in r.hosts.prefix(250) {
            r.update(h.host) { $0.result = HostResult(outcome: .unreachable, message: "unreachable") }
        }
        let html = RunReports.render(r, .html)
        let svg = Self.timeline(html)
        #expect(svg.components(separatedBy: "<text class=\"host-label\"").count - 1 == RunTimeline.attentionRows)
        // 10 canary hosts and 90 of prod's first batch drawn; the rest counted under their batch.
        #expect(svg.contains("… 9 more that need a look: see Failures"))
        #expect(html.contains("<details class=\"more-failures\"><summary>153 more hosts that need a look</summary>"))
        #expect(html.components(separatedBy: "<article class=\"failure ").count - 1 == 253)
    }
}
