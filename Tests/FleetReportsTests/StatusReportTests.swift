import FleetCore
import FleetLocal
import FleetReports
import FleetTestSupport
import Foundation
import Testing

/// The statuses the report tests render.
enum Statuses {
    static let sample = SampleStatus.status

    /// The sample judged with --require-target: hosts off 5.3.0 fail too.
    static let required: FleetStatus = {
        var s = SampleStatus.status
        s.requireTarget = true
        return s
    }()

    /// The example of docs/reports.md: two hosts, one on the target, one behind it.
    static let small = FleetStatus(
        generatedAt: "2026-12-03T09:30:00.125Z", durationMs: 42, inventories: ["/srv/fleet/hosts.ini"], playbook: "app",
        playbookFile: "/srv/fleet/app.yml", target: "1.1.0", versionSource: .playbook, stages: ["prod"],
        hosts: [
            StatusHost(
                name: "web01", stage: "prod", reachable: true, version: "1.1.0",
                health: HealthRecord(
                    context: "status", healthy: true,
                    probes: [
                        ProbeRecord(
                            target: "http://127.0.0.1:8080/health", expectation: "status 200-399", healthy: true, verdict: "passed",
                            attempts: [ProbeAttempt(atMs: 0, durationMs: 4, passed: true, detail: "status 200, 2 bytes: ok")])
                    ],
                    durationMs: 4),
                lastRun: LastRun(
                    runID: "20261202-031501-3f2a", playbook: "app", target: "1.1.0", at: "2026-12-02T03:15:03.950Z",
                    outcome: "upgraded")),
            StatusHost(
                name: "web02", stage: "prod", reachable: true, version: "1.0.0",
                health: HealthRecord(
                    context: "status", healthy: true,
                    probes: [
                        ProbeRecord(
                            target: "http://127.0.0.1:8080/health", expectation: "status 200-399", healthy: true, verdict: "passed",
                            attempts: [ProbeAttempt(atMs: 0, durationMs: 3, passed: true, detail: "status 200, 2 bytes: ok")])
                    ],
                    durationMs: 3)),
        ])

    static let all: [(String, FleetStatus)] = [
        ("sample", sample), ("required", required), ("clean", SampleStatus.clean),
        ("bare", SampleStatus.bare), ("small", small),
    ]
}

@Suite("status report: goldens of a fixed fleet status, and what each format must say")
struct StatusReportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/status"

    @Test("golden files", arguments: StatusReportFormat.allCases)
    func golden(format: StatusReportFormat) throws {
        let text = StatusReports.render(Statuses.sample, format)
        if let diff = try Golden.mismatch(text, golden: "\(Self.fixtures)/\(format.fileName)") { Issue.record("\(diff)") }
    }
}

extension StatusReportTests {
    @Test("text: the headline, a row per host, the versions per stage, the drift, who needs a look")
    func text() {
        let text = StatusReports.render(Statuses.sample, .text)
        #expect(text.hasPrefix("❌ mattermost → 5.3.0: 2 of 8 hosts need a look: 1 unreachable, 1 unhealthy; 4 not on 5.3.0\n"))
        #expect(
            text.contains(
                "\nmm-eu-03      prod     unreachable  unknown    –          20261202-031501-3f2a unreachable (2026-12-02 03:17:48 UTC)\n"))
        #expect(text.contains("\n  prod     5.0.0 ×2, 5.3.0 ×2, unknown ×2\n  all      5.0.0 ×2, 5.3.0 ×4, unknown ×2\n"))
        #expect(text.contains("drift: 4 of 8 not on 5.3.0: 2 behind (mm-eu-02,mm-us-01), 2 unknown (mm-eu-03,mm-us-02)\n"))
        #expect(
            text.contains("unhealthy (1):\n  mm-eu-04: http://127.0.0.1:8065/api/v4/system/ping: 3 consecutive failures (last: status 503"))
        #expect(text.contains("version not read (1):\n  mm-us-02: version command exit 127"))
        let clean = StatusReports.render(SampleStatus.clean, .text)
        #expect(clean.hasPrefix("✅ mattermost → 5.3.0: all 8 hosts reachable and healthy, all on 5.3.0\n"))
        #expect(!clean.contains("\nunhealthy (") && !clean.contains("\nunreachable ("))
        // Without a playbook: no drift column, no drift line.
        let bare = StatusReports.render(SampleStatus.bare, .text)
        #expect(bare.hasPrefix("❌ fleet: 1 of 2 hosts need a look: 1 unreachable\n"))
        #expect(bare.contains("HOST  STAGE      VERSION      HEALTH  LAST RUN\n") && !bare.contains("drift"))
    }

    @Test("require-target: hosts off the target fail, in the headline, the JSON and the JUnit")
    func requireTarget() {
        #expect(!Statuses.sample.passes && SampleStatus.clean.passes)
        var onlyBehind = SampleStatus.clean
        onlyBehind.hosts[3].version = "5.2.0"
        #expect(onlyBehind.passes, "drift alone does not fail the status")
        onlyBehind.requireTarget = true
        #expect(!onlyBehind.passes)
        #expect(StatusReports.render(onlyBehind, .text).hasPrefix("❌ mattermost → 5.3.0: 1 of 8 hosts need a look: 1 off target\n"))
        let xml = StatusReports.render(onlyBehind, .junit)
        #expect(xml.contains("<failure message=\"not on the target 5.3.0: 5.2.0 is behind 5.3.0\" type=\"off-target\"/>"))
        #expect(xml.contains("tests=\"8\" failures=\"1\" errors=\"0\""))
        let json = StatusReports.render(Statuses.required, .json)
        #expect(json.contains("\"problems\": [\n        \"off-target\"\n      ]"))
        #expect(json.contains("\"require_target\": true"))
    }

    @Test("markdown: the version table per stage, the drift, each host that needs a look with its probe")
    func markdown() {
        let md = StatusReports.render(Statuses.sample, .markdown)
        #expect(md.hasPrefix("### ❌ mattermost → 5.3.0: 2 of 8 hosts need a look: 1 unreachable, 1 unhealthy; 4 not on 5.3.0\n"))
        #expect(md.contains("| stage | hosts | 5.0.0 | 5.3.0 | unknown | unreachable | unhealthy |\n"))
        #expect(md.contains("| prod | 6 | 2 | 2 | 2 | 1 | 1 |\n| **all** | 8 | 2 | 4 | 2 | 1 | 1 |\n"))
        #expect(md.contains("- **mm-eu-03** (prod): unreachable: mm-eu-03.chat.example.com:22: connection refused (4 attempts)\n"))
        #expect(md.contains("  +4s FAIL status 503, 17 bytes: {\"status\":\"DOWN\"}\n  ```\n  logs:\n"))
        // Markup in a host's output stays inside its fence.
        #expect(md.contains("  2026-12-03T09:29:58Z ERROR 数据库连接失败 ✗ <db> & retry\n  ```\n"))
        #expect(md.contains("| mm-us-01 | prod | 5.0.0 | behind | healthy | – |\n"))
    }

    @Test("html: self-contained, a bar per version per stage (and for all stages), escaped text")
    func html() {
        let html = StatusReports.render(Statuses.sample, .html)
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"))
        #expect(!html.contains("<script") && !html.contains(" src=") && !html.contains("<link"))
        // staging: 5.3.0; prod: 5.0.0, 5.3.0, unknown; all: the same three.
        #expect(html.components(separatedBy: "<rect class=\"bar ").count - 1 == 7)
        #expect(html.contains("<rect class=\"bar drift-behind\" data-stage=\"prod\" data-version=\"5.0.0\" data-hosts=\"2\""))
        #expect(
            html.contains(
                "<rect class=\"bar drift-on-target\" data-stage=\"all stages\" data-version=\"5.3.0\" data-hosts=\"4\" x=\"170\" y=\"171\" width=\"730\""
            ))
        // Half as many hosts, half as long a bar.
        #expect(html.contains("data-stage=\"staging\" data-version=\"5.3.0\" data-hosts=\"2\" x=\"170\" y=\"31\" width=\"365\""))
        #expect(html.contains("<rect class=\"bar drift-unknown\" data-stage=\"prod\" data-version=\"unknown\""))
        #expect(html.components(separatedBy: "<tr class=\"host ").count - 1 == 8)
        #expect(html.contains("ERROR 数据库连接失败 ✗ &lt;db&gt; &amp; retry"))
        #expect(html.contains("<article class=\"failure\" id=\"host-detail-5\" data-host=\"mm-eu-03\">"))
        // No target: one colour for every bar.
        let bare = StatusReports.render(SampleStatus.bare, .html)
        #expect(bare.contains("<rect class=\"bar drift-none\" data-stage=\"ungrouped\" data-version=\"unknown\" data-hosts=\"2\""))
    }

    @Test("junit: a suite per stage, a case per host; unreachable is an error, unhealthy a failure, drift alone passes")
    func junit() {
        let xml = StatusReports.render(Statuses.sample, .junit)
        #expect(
            xml.contains("<testsuites name=\"fleetup status: mattermost → 5.3.0\" tests=\"8\" failures=\"1\" errors=\"1\" skipped=\"0\""))
        #expect(xml.contains("<testsuite name=\"staging\" tests=\"2\" failures=\"0\" errors=\"0\""))
        #expect(xml.contains("<testsuite name=\"prod\" tests=\"6\" failures=\"1\" errors=\"1\""))
        #expect(
            xml.contains(
                "<testcase name=\"mm-eu-03\" classname=\"status.mattermost.prod\" time=\"0.000\">\n      <error message=\"unreachable: mm-eu-03.chat.example.com:22"
            ))
        #expect(
            xml.contains(
                "<failure message=\"unhealthy: http://127.0.0.1:8065/api/v4/system/ping: 3 consecutive failures (last: status 503, 17 bytes: {&quot;status&quot;:&quot;DOWN&quot;})\" type=\"unhealthy\">"
            ))
        #expect(xml.contains("    2026-12-03T09:29:58Z ERROR 数据库连接失败 ✗ &lt;db&gt; &amp; retry\n"))
        // mm-eu-02 is behind 5.3.0 but healthy: it passes, saying where it is.
        #expect(
            xml.contains(
                "<testcase name=\"mm-eu-02\" classname=\"status.mattermost.prod\" time=\"0.003\">\n      <system-out>reachable\nversion 5.0.0 (behind 5.3.0)\n"
            ))
        #expect(!xml.contains("type=\"off-target\""))
    }

    @Test("json: the distribution, the drift and the hosts that need a look")
    func json() throws {
        let doc = try #require(
            try JSONSerialization.jsonObject(with: Data(StatusReports.render(Statuses.sample, .json).utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "fleetup.status/1")
        #expect(doc["passed"] as? Bool == false)
        let versions = try #require(doc["versions"] as? [[String: Any]])
        #expect(versions.map { $0["version"] as? String ?? "null" } == ["5.0.0", "5.3.0", "null"])
        #expect(versions.map { $0["count"] as? Int } == [2, 4, 2])
        let drift = try #require(doc["drift"] as? [String: Any])
        #expect(drift["behind"] as? [String] == ["mm-eu-02", "mm-us-01"])
        #expect(drift["unknown"] as? [String] == ["mm-eu-03", "mm-us-02"])
        #expect(doc["unreachable"] as? [String] == ["mm-eu-03"] && doc["unhealthy"] as? [String] == ["mm-eu-04"])
        let hosts = try #require(doc["hosts"] as? [[String: Any]])
        let eu04 = try #require(hosts.first { $0["host"] as? String == "mm-eu-04" })
        #expect(eu04["problems"] as? [String] == ["unhealthy"])
        #expect((eu04["last_run"] as? [String: Any])?["outcome"] as? String == "failed")
        #expect(hosts.first { $0["host"] as? String == "mm-us-01" }?["last_run"] is NSNull, "skipped after the halt: not touched")
    }
}

@Suite("status report: the JSON against its JSON Schema, the JUnit against the XSD")
struct StatusReportSchemaTests {
    static let schemaPath = RunReportSchemaTests.root + "/docs/schema/fleetup.status-1.schema.json"

    static func schema() throws -> SchemaSubset { try SchemaSubset.load(schemaPath) }

    @Test("every status the tests make is valid fleetup.status/1", arguments: Statuses.all.map(\.0))
    func valid(name: String) throws {
        let status = try #require(Statuses.all.first { $0.0 == name }?.1)
        let problems = try Self.schema().problems(JSONValue.parse(StatusReports.render(status, .json)))
        #expect(problems.isEmpty, "\(problems.map(\.description).joined(separator: "\n"))")
    }

    @Test(
        "the validator finds what breaks the schema",
        arguments: [
            // (what is changed in the sample status's JSON, the problem expected)
            ("\"schema\": \"fleetup.status/1\"", "\"schema\": \"fleetup.status/2\"", "$.schema: expected the constant"),
            ("\"passed\": false", "\"passed\": \"no\"", "$.passed: expected boolean, found string"),
            ("\"drift\": \"behind\"", "\"drift\": \"late\"", ".drift: "),
            ("\"generated_at\": \"2026-12-03T09:30:00.125Z\"", "\"generated_at\": \"today\"", "$.generated_at: \"today\" does not match"),
            ("\"duration_ms\": 4210", "\"duration_ms\": -1", "$.duration_ms: -1 is less than 0"),
            ("\"require_target\": false", "\"require_target\": false, \"extra\": 1", "$: key extra is not in the schema"),
            ("\"version_problem\": ", "\"version_why\": ", "missing key version_problem"),
            ("\"reachable\": true", "\"reachable\": 1", "expected boolean, found integer"),
        ])
    func invalid(original: String, replacement: String, problem: String) throws {
        let json = StatusReports.render(Statuses.sample, .json)
        #expect(json.contains(original))
        let problems = try Self.schema().problems(in: json, replacing: original, with: replacement)
        #expect(problems.contains { $0.contains(problem) }, "\(problems)")
    }

    @Test("the schema uses only what the validator checks, and docs/reports.md explains every key")
    func documented() throws {
        let schema = try Self.schema()
        #expect(schema.unknownKeywords().isEmpty, "\(schema.unknownKeywords())")
        let missing = try schema.keysNotExplained(in: RunReportSchemaTests.root + "/docs/reports.md", section: "## The status report")
        #expect(missing.isEmpty, "keys of fleetup.status/1 that docs/reports.md does not explain: \(missing)")
    }

    @Test("docs/reports.md: its fleetup.status/1 example is what the renderer writes for the small status")
    func docsExample() throws {
        let json = StatusReports.render(Statuses.small, .json)
        if let diff = try Golden.mismatch(json, golden: "\(StatusReportTests.fixtures)/small.json") { Issue.record("\(diff)") }
        let docs = try String(contentsOfFile: RunReportSchemaTests.root + "/docs/reports.md", encoding: .utf8)
        let section = try #require(docs.components(separatedBy: "## The status report").dropFirst().first)
        let example = try #require(section.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```\n").first)
        #expect(example == json, "copy Tests/FleetReportsTests/Fixtures/status/small.json into the example")
    }

    @Test("the JUnit XML of every status validates against the XSD", .enabled(if: Needed.runs("xmllint")))
    func junit() async throws {
        let xmllint = try #require(
            Needed.program("xmllint"), "xmllint is missing on CI: scripts/lib/ensure-packages installs libxml2-utils")
        let dir = NSTemporaryDirectory() + "status-junit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, status) in Statuses.all {
            let path = "\(dir)/\(name).xml"
            try StatusReports.render(status, .junit).write(toFile: path, atomically: true, encoding: .utf8)
            let r = try await LocalProcess.result(of: xmllint, ["--noout", "--schema", RunReportSchemaTests.xsd, path])
            #expect(r.status == 0 && r.stderr.contains("\(path) validates"), "\(name): \(r.stderr)")
        }
        // A host with both an error and a failure does not validate: the check can fail.
        let broken = StatusReports.render(Statuses.sample, .junit)
            .replacingOccurrences(of: "<error message=\"unreachable", with: "<failure/><error message=\"unreachable")
        let path = "\(dir)/broken.xml"
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try await LocalProcess.result(of: xmllint, ["--noout", "--schema", RunReportSchemaTests.xsd, path])
        #expect(r.status != 0 && r.stderr.contains("fails to validate"), "\(r.stderr)")
    }
}

extension ChromiumTests {
    @Test("status: the version bars and the host rows are in the DOM, and the page fetched nothing")
    func status() async throws {
        let status = Statuses.sample
        let load = try await Self.load(StatusReports.render(status, .html))
        #expect(load.dom.contains("<svg") && load.dom.contains("class=\"versions\""))
        let bars = status.stages.map { status.distribution(stage: $0).count }.reduce(0, +) + status.distribution().count
        #expect(load.dom.components(separatedBy: "<rect class=\"bar ").count - 1 == bars)
        for h in status.hosts { #expect(load.dom.contains("data-host=\"\(h.name)\""), "no row for \(h.name)") }
        #expect(load.dom.contains("&lt;db&gt;") && !load.dom.contains("<db>"))
        #expect(load.pageRequests.isEmpty, "the status page fetched \(load.pageRequests)")
    }
}
