import FleetCore
import FleetReports
import FleetStore
import FleetTestSupport
import Foundation
import Testing

/// Records of the runs the report tests render: the sample halted run, and what its
/// journal says when cut short at interesting points.
enum Runs {
    static let halted = SampleRun.record

    /// The journal as a `kill -9` mid-step leaves it: mm-eu-04 is in its "start" step.
    static let unfinished: RunRecord = {
        let all = SampleRun.entries
        let cut = all.firstIndex { e in
            if case .stepStarted("mm-eu-04", let s) = e.event { return s.name == "start" }
            return false
        }!
        return try! RunRecord(entries: Array(all[...cut]))
    }()

    /// Staging done, then nobody approved the gate.
    static let waiting: RunRecord = {
        let all = SampleRun.entries
        let gate = all.firstIndex { if case .gate = $0.event { return true } else { return false } }!
        let t = all[gate].time
        return try! RunRecord(
            entries: Array(all[..<gate]) + [
                JournalEntry(
                    seq: gate + 1, time: t,
                    event: .gate(
                        stage: "staging", next: "prod", decision: .notApproved,
                        detail: "not interactive and no --approve staging")),
                JournalEntry(seq: gate + 2, time: t, event: .runFinished(outcome: .waitingForApproval)),
            ])
    }()

    /// The example of docs/reports.md: one host, one hop of one step, healthy at the first try.
    static let small: RunRecord = {
        let header = RunHeader(
            id: "20261202-031501-3f2a", user: "alice", machine: "ops1", fleetupVersion: "0.1.0", playbook: "app",
            playbookFile: "/srv/fleet/app.yml", inventories: ["/srv/fleet/hosts.ini"], target: "1.1.0", forks: 10,
            policy: "batch [1], max_fail_percentage 0, order inventory",
            stages: [StagePlan(name: "prod", batches: [["web01"]], haltAt: [1])])
        let step = StepRef(phase: .upgrade, from: "1.0.0", to: "1.1.0", index: 0, name: "install", command: "apt-get install -y app=1.1.0")
        let probe = ProbeRecord(
            target: "http://127.0.0.1:8080/health", expectation: "status 200-399", healthy: true, verdict: "passed",
            attempts: [ProbeAttempt(atMs: 0, durationMs: 4, passed: true, detail: "status 200, 2 bytes: ok")])
        let events: [(Int, RunEvent)] = [
            (0, .runStarted(header)), (5, .stageStarted(stage: "prod")), (6, .batchStarted(stage: "prod", batch: 1, hosts: ["web01"])),
            (7, .hostStarted(host: "web01", recheck: false)), (300, .versionRead(host: "web01", version: "1.0.0", problem: nil)),
            (310, .hopStarted(host: "web01", from: "1.0.0", to: "1.1.0")), (311, .stepStarted(host: "web01", step: step)),
            (
                2_411,
                .stepFinished(
                    host: "web01", record: StepRecord(step: step, exitStatus: 0, durationMs: 2_100, stdout: "Setting up app (1.1.0) ...\n"))
            ),
            (
                2_420,
                .healthChecked(
                    host: "web01", record: HealthRecord(context: "after 1.0.0 -> 1.1.0", healthy: true, probes: [probe], durationMs: 4))
            ),
            (
                2_700,
                .hostFinished(
                    host: "web01",
                    result: HostResult(outcome: .upgraded, versionBefore: "1.0.0", versionAfter: "1.1.0", path: ["1.0.0", "1.1.0"]))
            ),
            (2_710, .runFinished(outcome: .succeeded)),
        ]
        return try! RunRecord(
            entries: events.enumerated().map { JournalEntry(seq: $0.offset + 1, time: SampleRun.time($0.element.0), event: $0.element.1) })
    }()

    /// Every record, named, for the tests that check all of them.
    /// The halted run with the hooks of a playbook that has them: one passed, one timed out.
    static let hooked: RunRecord = {
        let all = SampleRun.entries
        let halt = all.firstIndex { if case .halted = $0.event { return true } else { return false } }!
        let t = all[halt].time
        let hooks: [RunEvent] = [
            .hookRan(
                record: HookRecord(point: .beforeStage, name: "announce", stage: "prod", status: 0, output: "posted\n", durationMs: 120)),
            .hookRan(
                record: HookRecord(
                    point: .onHalt, name: "page on-call", stage: nil, signal: 9, timedOut: true, output: "paging…\n", durationMs: 5000)),
        ]
        var entries = Array(all[...halt]) + hooks.map { JournalEntry(seq: 0, time: t, event: $0) } + Array(all[(halt + 1)...])
        for i in entries.indices { entries[i].seq = i + 1 }
        return try! RunRecord(entries: entries)
    }()

    static let all: [(String, RunRecord)] = [
        ("halted", halted), ("unfinished", unfinished), ("waiting", waiting), ("small", small), ("hooked", hooked),
    ]
}

@Suite("run report: goldens of the sample halted run, and what each format must say")
struct RunReportTests {
    @Test("hooks: each in Who did what (summary and the end of its output) and in run.json with how it ran")
    func hooks() throws {
        let md = RunReports.render(Runs.hooked, .markdown)
        #expect(md.contains(#"before_stage hook "announce" (prod): exit 0: posted"#))
        #expect(md.contains(#"on_halt hook "page on-call": timed out after 5.0 s (ended): paging…"#))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(RunReports.render(Runs.hooked, .json).utf8)) as? [String: Any])
        let hooks = (json["actions"] as? [[String: Any]] ?? []).compactMap { $0["hook"] as? [String: Any] }
        #expect(hooks.map { $0["name"] as? String } == ["announce", "page on-call"])
        #expect(hooks.map { $0["passed"] as? Bool } == [true, false] && hooks[1]["timed_out"] as? Bool == true)
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/run"

    @Test("golden files", arguments: RunReportFormat.allCases)
    func golden(format: RunReportFormat) throws {
        let text = RunReports.render(Runs.halted, format)
        if let diff = try Golden.mismatch(text, golden: "\(Self.fixtures)/\(format.fileName)") { Issue.record("\(diff)") }
    }

    @Test("the file names are the ones a run folder reserves")
    func names() {
        let folder = RunFolder(id: RunID(SampleRun.id)!, path: "/s/runs/\(SampleRun.id)")
        #expect(
            RunReportFormat.allCases.map { "/s/runs/\(SampleRun.id)/\($0.fileName)" }
                == [folder.record, folder.markdownReport, folder.htmlReport, folder.junitReport])
    }

    @Test("markdown: the outcome line first, a row per stage, the failures with their output, the hints")
    func markdown() {
        let md = RunReports.render(Runs.halted, .markdown)
        #expect(md.hasPrefix("### ❌ mattermost → 5.3.0 halted: 1 of 3 hosts in the batch failed, more than max_fail_percentage 0%\n"))
        #expect(md.contains("| staging | 2 | 1 | 1 | 0 | 0 | 0 | 0 | approved |"))
        #expect(md.contains("| prod | 7 | 1 | 0 | 1 | 1 | 1 | 3 | – |"))
        #expect(
            md.contains(
                "stderr of step 4 \"unpack the release over the install\" (exit 2, 1.2s):\n```text\ngzip: stdin: unexpected end of file\n"))
        #expect(
            md.contains(
                "rollback: \"restore the install\" exit 0, \"restore config.json\" exit 0, \"start the old release\" exit 0; back on 5.0.0\n"
            ))
        #expect(md.contains("> ⚠️ **restore:** 5.2.0 -> 5.3.0 went past its point of no return"))
        #expect(md.contains("**Skipped after the halt** (3): mm-us-\\[01-03\\]"))
        #expect(md.contains("- after fixing the cause: `fleetup resume \(SampleRun.id)`"))
        // Markup in output stays as it is inside a fence; a colour code does not get in.
        #expect(md.contains("✗ <script>alert('x')</script> & exit\n```"))
        #expect(!md.contains("\u{1b}") && md.contains("\u{FFFD}[31mERROR"))
    }

    @Test(
        "markdown: text outside a fence cannot become markup",
        arguments: [
            (
                "<b>bold</b> *star* | pipe `tick` [link](x) ~strike~",
                "\\<b>bold\\</b> \\*star\\* \\| pipe \\`tick\\` \\[link\\](x) \\~strike\\~"
            ),
            ("# heading", "\\# heading"),  // at the start of a line only
            ("1. not a list", "1\\. not a list"),
            ("> not a quote -> still not", "\\> not a quote -> still not"),
            ("max_fail_percentage _under_", "max_fail_percentage \\_under\\_"),  // inside a word: left alone
            ("two\nlines\r\nthree", "two lines three"),
        ])
    func escaping(message: String, expected: String) throws {
        var r = Runs.halted
        try #require(r.host("mm-eu-03") != nil)
        r.update("mm-eu-03") { $0.result?.message = message }
        let md = RunReports.render(r, .markdown)
        #expect(md.contains("**mm-eu-03** · prod batch 2 · unreachable\n\(expected)\n"), "\(md)")
    }

    @Test("markdown: a fence longer than any backtick run in the output; long output keeps its tail")
    func fences() throws {
        var r = Runs.halted
        try #require(r.host("mm-eu-02")?.steps.count ?? 0 > 3)
        let lines = (1...40).map { "line \($0)" } + ["```", "````"]
        r.update("mm-eu-02") { $0.steps[3].stderr = lines.joined(separator: "\n") + "\n" }
        let md = RunReports.render(r, .markdown)
        #expect(md.contains("`````text\n[… 27 earlier lines]\nline 28\n"))
        #expect(md.contains("line 40\n```\n````\n`````\n"))
        #expect(!md.contains("line 27\n"))
    }

    @Test("html: escaped text, a CSP that allows nothing but inline style, a row and a bar per started host")
    func html() {
        let html = RunReports.render(Runs.halted, .html)
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"))
        #expect(!html.contains("<script") && html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; exit"))
        #expect(!html.contains("\u{1b}") && html.contains("\u{FFFD}[31mERROR"))
        #expect(!html.contains("http-equiv=\"refresh\"") && !html.contains(" src=") && !html.contains("<link"))
        #expect(html.components(separatedBy: "<tr class=\"host ").count - 1 == 9)
        // Started hosts have a bar; the 3 skipped ones a row without one.
        #expect(html.components(separatedBy: "<rect class=\"bar ").count - 1 == 6)
        #expect(html.components(separatedBy: "<text class=\"no-bar\"").count - 1 == 3)
        #expect(html.contains("<rect class=\"bar st-unreachable\" data-host=\"mm-eu-03\""))
        // The health transcript: every attempt of the failing probe.
        #expect(html.contains("<td>fail</td><td>status 500, 63 bytes: {&quot;id&quot;:&quot;app.migration&quot;"))
    }

    @Test("html timeline: bars placed by journal time relative to the run's start")
    func timeline() throws {
        let html = RunReports.render(Runs.halted, .html)
        // The run lasts until its runFinished; the axis spans 0 to that.
        let end = try #require(Runs.halted.durationMs)
        let eu03 = try #require(Runs.halted.host("mm-eu-03"))
        let start = try #require(Runs.halted.offsetMs(eu03.startedAt))
        let x = 230 + Double(start) / Double(end) * (960 - 230 - 20)
        let tenths = Int((x * 10).rounded())
        let text = tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
        #expect(html.contains("data-host=\"mm-eu-03\" x=\"\(text)\""), "expected the bar of mm-eu-03 at x=\(text)")
        // Its width is its duration on the same scale (3.044 s of the run's length).
        let w = Double(try #require(eu03.durationMs)) / Double(end) * (960 - 230 - 20)
        #expect(w > 2)
        let wt = Int((w * 10).rounded())
        #expect(html.contains("width=\"\(wt % 10 == 0 ? "\(wt / 10)" : "\(wt / 10).\(wt % 10)")\""))
    }

    @Test("junit: a suite per stage, a case per host; failures, errors and skips counted")
    func junit() {
        let xml = RunReports.render(Runs.halted, .junit)
        #expect(
            xml.contains(
                "<testsuites name=\"fleetup run \(SampleRun.id): mattermost → 5.3.0\" tests=\"9\" failures=\"2\" errors=\"1\" skipped=\"3\""
            ))
        #expect(xml.contains("<testsuite name=\"staging\" tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"0\""))
        #expect(xml.contains("<testsuite name=\"prod\" tests=\"7\" failures=\"2\" errors=\"1\" skipped=\"3\""))
        #expect(xml.contains("<testcase name=\"mm-eu-02\" classname=\"mattermost.prod.batch2\""))
        #expect(
            xml.contains(
                "<failure message=\"step &quot;unpack the release over the install&quot; of 5.0.0 -&gt; 5.1.0 exit 2\" type=\"rolled-back\">"
            ))
        #expect(
            xml.contains(
                "<error message=\"unreachable: mm-eu-03.chat.example.com:22: connection refused (4 attempts)\" type=\"unreachable\">"))
        #expect(xml.contains("<skipped message=\"the run halted: 1 of 3 hosts in the batch failed, more than max_fail_percentage 0%\"/>"))
        #expect(!xml.contains("\u{1b}"))
    }

    @Test("an unfinished journal: no outcome, the in-flight step named, resume suggested", arguments: RunReportFormat.allCases)
    func unfinished(format: RunReportFormat) {
        let text = RunReports.render(Runs.unfinished, format)
        switch format {
        case .json:
            #expect(text.contains("\"outcome\": null") && text.contains("\"in_flight_step\": {"))
        case .markdown:
            #expect(text.hasPrefix("### 🔄 mattermost → 5.3.0 unfinished: the journal has no end"))
            #expect(text.contains("- **mm-eu-02**: started 2026-12-02 03:17:45 UTC during step 4 \"unpack the release over the install\""))
            #expect(text.contains("during step 5 \"start\" of 5.2.0 -> 5.3.0, no outcome recorded"))
        case .html:
            #expect(text.contains("<rect class=\"bar st-running\" data-host=\"mm-eu-04\""))
            #expect(text.contains("in flight when the journal ends: step 5 “start”"))
        case .junit:
            #expect(text.contains("<skipped message=\"not finished when the journal ends, during step 5 &quot;start&quot;\"/>"))
        }
    }

    @Test("docs/reports.md: its fleetup.run/2 example is what the renderer writes for the small run")
    func docsExample() throws {
        let json = RunReports.render(Runs.small, .json)
        if let diff = try Golden.mismatch(json, golden: "\(Self.fixtures)/small.json") { Issue.record("\(diff)") }
        let docs = try String(contentsOfFile: RunReportSchemaTests.root + "/docs/reports.md", encoding: .utf8)
        let section = try #require(docs.components(separatedBy: "## The run report").dropFirst().first)
        let example = try #require(section.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```\n").first)
        #expect(example == json, "copy Tests/FleetReportsTests/Fixtures/run/small.json into the example")
    }

    @Test("waiting for approval: says which stage and how to go on")
    func waiting() {
        let md = RunReports.render(Runs.waiting, .markdown)
        #expect(md.hasPrefix("### ⏳ mattermost → 5.3.0 waiting-for-approval: the gate after staging (before prod) was not approved\n"))
        // --approve names the stage the gate follows (a wrong hint said prod, which approves nothing).
        #expect(
            md.contains(
                "`fleetup resume \(SampleRun.id) --approve staging` (or `fleetup approve \(SampleRun.id) --stage staging`) goes on with prod"
            ))
    }

    @Test("write: the four files into the run folder, 0600, replacing older ones, no temporary left")
    func write() throws {
        let dir = NSTemporaryDirectory() + "reports-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = RunFolder(id: RunID(SampleRun.id)!, path: dir + "/runs/" + SampleRun.id)
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        try "old".write(toFile: folder.markdownReport, atomically: false, encoding: .utf8)
        let paths = try StoreFile.write(RunReports.files(Runs.halted), into: folder.path)
        #expect(paths == [folder.record, folder.markdownReport, folder.htmlReport, folder.junitReport])
        for (path, format) in zip(paths, RunReportFormat.allCases) {
            #expect(try String(contentsOfFile: path, encoding: .utf8) == RunReports.render(Runs.halted, format))
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                == ["report.html", "report.junit.xml", "report.md", "run.json"])
        // --output DIR: created when missing, same files.
        let out = dir + "/out/nested"
        let copies = try StoreFile.write(RunReports.files(Runs.halted), into: out)
        #expect(copies.map { ($0 as NSString).lastPathComponent } == RunReportFormat.allCases.map(\.fileName))
        #expect(try String(contentsOfFile: out + "/report.junit.xml", encoding: .utf8) == RunReports.render(Runs.halted, .junit))
    }

    @Test("write into a folder that cannot be written: an error naming the file, nothing left behind")
    func writeFails() throws {
        let dir = NSTemporaryDirectory() + "reports-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/file", atomically: false, encoding: .utf8)
        #expect {
            try StoreFile.write(RunReports.files(Runs.halted), into: dir + "/file")
        } throws: { error in
            "\(error)".hasPrefix(dir + "/file") && "\(error)".contains("not a folder")
        }
    }
}
