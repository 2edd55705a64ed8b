import FleetCore
import FleetLocal
import FleetReports
import FleetTestSupport
import Foundation
import Testing

/// Programs the tests need from Debian (scripts/lib/ensure-packages installs them). Missing
/// on a developer's machine, their tests are skipped, saying so; on CI (`CI` set) they run,
/// and fail, so a CI without them cannot pass by skipping.
enum Needed {
    static let onCI = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty

    static func program(_ name: String) -> String? { LocalProcess.find(name) }

    /// Whether a test that needs `name` runs: it is there, or this is CI.
    static func runs(_ name: String) -> Bool {
        if program(name) != nil || onCI { return true }
        FileHandle.standardError.write(
            Data(
                """
                ⚠️  SKIPPING the tests that need \(name): it is not installed (`scripts/lib/ensure-packages` installs it, as \
                scripts/test and .ci/run do)\n
                """.utf8))
        return false
    }
}

@Suite("run report: the JSON against its JSON Schema, the JUnit against an XSD")
struct RunReportSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let schemaPath = root + "/docs/schema/fleetup.run-2.schema.json"
    static let xsd = root + "/Tests/FleetReportsTests/Fixtures/junit.xsd"

    static func schema() throws -> SchemaSubset { try SchemaSubset.load(schemaPath) }

    @Test("every record the tests make is valid fleetup.run/2", arguments: Runs.all.map(\.0))
    func valid(name: String) throws {
        let record = try #require(Runs.all.first { $0.0 == name }?.1)
        let problems = try Self.schema().problems(JSONValue.parse(RunReports.render(record, .json)))
        #expect(problems.isEmpty, "\(problems.map(\.description).joined(separator: "\n"))")
    }

    @Test(
        "the validator finds what breaks the schema",
        arguments: [
            // (what is changed in the sample run's JSON, the problem expected)
            ("\"schema\": \"fleetup.run/2\"", "\"schema\": \"fleetup.run/1\"", "$.schema: expected the constant"),
            ("\"kind\": \"started\"", "\"kind\": \"begun\"", "$.actions[0].kind: "),
            ("\"forks\": 10", "\"forks\": \"10\"", "$.forks: expected integer, found string"),
            ("\"outcome\": \"halted\"", "\"outcome\": \"stopped\"", "$.outcome: "),
            ("\"started_at\": \"2026-12-02T03:15:01.250Z\"", "\"started_at\": \"yesterday\"", "$.started_at: \"yesterday\" does not match"),
            ("\"resumes\": 0", "\"resumes\": -1", "$.resumes: -1 is less than 0"),
            ("\"last_seq\": 105", "\"last_seq\": 105, \"extra\": true", "$: key extra is not in the schema"),
            ("\"halt_reason\": ", "\"halt_why\": ", "$: missing key halt_reason"),
            ("\"timed_out\": false", "\"timed_out\": 0", "expected boolean, found integer"),
        ])
    func invalid(original: String, replacement: String, problem: String) throws {
        let json = RunReports.render(Runs.halted, .json)
        #expect(json.contains(original))
        let problems = try Self.schema().problems(in: json, replacing: original, with: replacement)
        #expect(problems.contains { $0.contains(problem) }, "\(problems)")
    }

    @Test("the schema uses only what the validator checks, and docs/reports.md explains every key")
    func documented() throws {
        let schema = try Self.schema()
        #expect(schema.unknownKeywords().isEmpty, "\(schema.unknownKeywords())")
        let missing = try schema.keysNotExplained(in: Self.root + "/docs/reports.md", section: "## The run report")
        #expect(missing.isEmpty, "keys of fleetup.run/2 that docs/reports.md does not explain: \(missing)")
    }

    @Test(
        "the JUnit XML of every record validates against the XSD, and a broken one does not",
        .enabled(if: Needed.runs("xmllint")))
    func junit() async throws {
        let xmllint = try #require(
            Needed.program("xmllint"), "xmllint is missing on CI: scripts/lib/ensure-packages installs libxml2-utils")
        let dir = NSTemporaryDirectory() + "junit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, record) in Runs.all {
            let path = "\(dir)/\(name).xml"
            try RunReports.render(record, .junit).write(toFile: path, atomically: true, encoding: .utf8)
            let r = try await LocalProcess.result(of: xmllint, ["--noout", "--schema", Self.xsd, path])
            #expect(r.status == 0 && r.stderr.contains("\(path) validates"), "\(name): \(r.stderr)")
        }
        // The XSD really checks: a test case without its name, or with two outcomes, fails.
        let good = RunReports.render(Runs.halted, .junit)
        for broken in [
            good.replacingOccurrences(of: "<testcase name=\"mm-eu-02\"", with: "<testcase"),
            good.replacingOccurrences(of: "<skipped message=\"the run halted", with: "<error/><skipped message=\"the run halted"),
            good.replacingOccurrences(of: "failures=\"2\"", with: "failures=\"two\""),
        ] {
            #expect(broken != good)
            let path = "\(dir)/broken.xml"
            try broken.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try await LocalProcess.result(of: xmllint, ["--noout", "--schema", Self.xsd, path])
            #expect(r.status != 0 && r.stderr.contains("fails to validate"), "\(r.stderr)")
        }
    }
}
