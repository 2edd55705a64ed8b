import FleetConfig
import FleetCore
import Foundation
import Testing

/// Hostile playbooks (issue 18): each one crashed, hung or filled the memory; now each gets
/// its exact `file:line: where: problem` naming the limit. Small ones are fixtures in
/// Fixtures/hostile/playbooks/; big ones are generated here.
@Suite("hostile playbooks")
struct HostilePlaybookTests {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/hostile/playbooks")

    static let cases: [(String, [String])] = [
        // vars expanding to 10^9 nodes through aliases: 3 GB and a hang.
        (
            "billion-laughs.yml",
            ["billion-laughs.yml:15: aliases expand to more than 1000000 nodes (the limit; a YAML \"billion laughs\"?)"]
        ),
        // rolling.pause past Int64 milliseconds trapped in the conversion.
        (
            "pause-huge.yml",
            [
                "pause-huge.yml:9: rolling.pause: expected a duration of at most 30d (the longest fleetup accepts), got \"99999999999999999999d\""
            ]
        ),
        // a bare number of seconds with 400 digits is inf to Double.
        (
            "step-timeout-huge.yml",
            [
                "step-timeout-huge.yml:8: step \"stop\": timeout: expected a duration of at most 30d (the longest fleetup accepts), got \"1\(String(repeating: "0", count: 400))\""
            ]
        ),
        (
            "soak-huge.yml",
            ["soak-huge.yml:9: rolling.gate: soak 9999999999999d: expected a duration of at most 30d (the longest fleetup accepts)"]
        ),
        (
            "soak-map-huge.yml",
            ["soak-map-huge.yml:9: rolling.gate: soak: expected a duration of at most 30d (the longest fleetup accepts), got \"31d\""]
        ),
        // every probe timing goes through the same parser.
        (
            "probe-huge.yml",
            [
                "probe-huge.yml:10: health[1]: period: expected a duration of at most 30d (the longest fleetup accepts), got \"99999999999999999999d\"",
                "probe-huge.yml:11: health[1]: deadline: expected a duration of at most 30d (the longest fleetup accepts), got \"1000000h\"",
            ]
        ),
    ]

    @Test("each hostile playbook fixture, its exact messages", arguments: cases)
    func fixture(file: String, messages: [String]) throws {
        let path = Self.folder.appendingPathComponent(file).path
        do {
            _ = try PlaybookLoader.load(path)
            Issue.record("\(file) loaded, but it is hostile")
        } catch let e as ConfigErrors {
            #expect(e.errors.map { $0.description.replacingOccurrences(of: path, with: file) } == messages)
        }
    }

    @Test("every hostile playbook fixture is in the table")
    func complete() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".yml") }.sorted()
        #expect(files == Self.cases.map(\.0).sorted())
    }

    /// Playbooks that load, whose templates are refused when rendered for a host: the
    /// message `check` prints (Fixtures/hostile/playbooks/templates/).
    static let templateCases: [(String, [String])] = [
        // output doubling 24 times: now it stops past 128 KB, at t17 (2 bytes * 2^17).
        (
            "template-doubling.yml",
            [
                "template-doubling.yml:7: step \"stop\": in variable \"t17\": renders to more than 128 KB (the limit: the longest argument Linux passes to a command) (host h1)"
            ]
        ),
        // nothing grows, but each variable is rendered once per rendering, not 2^40 times.
        ("template-doubling-empty.yml", []),
    ]

    @Test("templates that grew without end or recursed without end get their message", arguments: templateCases)
    func templates(file: String, messages: [String]) throws {
        let path = Self.folder.appendingPathComponent("templates/" + file).path
        let book = try PlaybookLoader.load(path)
        let errors = PlaybookCheck.templates(book, hosts: [Host(name: "h1")], target: try #require(Version("1.1.0")))
        #expect(errors.map { $0.description.replacingOccurrences(of: path, with: file) } == messages)
    }

    /// A playbook whose step runs `{{ c<n> }}`, each `c<i>` inserting `c<i-1>`.
    static func chain(_ n: Int) -> String {
        """
        hosts: all
        version: {detect: app version}
        releases: ["1.0.0", "1.1.0"]
        steps: [{name: stop, run: "systemctl stop {{ c\(n) }}"}]
        vars:
          c0: app
        """ + "\n" + (1...n).map { "  c\($0): \"{{ c\($0 - 1) }}\"" }.joined(separator: "\n") + "\n"
    }

    @Test(
        "variables referring to variables: 100 deep renders, 101 and the issue's 20,000 are refused",
        arguments: [
            (100, []),
            (
                101,
                [
                    "chain.yml:4: step \"stop\": variables refer to variables more than 100 deep (the limit): c101 -> c100 -> c99 -> … (host h1)"
                ]
            ),
            // 20,000 overflowed the stack.
            (
                20_000,
                [
                    "chain.yml:4: step \"stop\": variables refer to variables more than 100 deep (the limit): c20000 -> c19999 -> c19998 -> … (host h1)"
                ]
            ),
        ])
    func chains(depth: Int, messages: [String]) throws {
        let book = try PlaybookLoader.parse(Self.chain(depth), file: "chain.yml")
        let errors = PlaybookCheck.templates(book, hosts: [Host(name: "h1")], target: try #require(Version("1.1.0")))
        #expect(errors.map(\.description) == messages)
    }

    @Test("an upload source that is a device is a warning at check (the upload refuses it)")
    func deviceUpload() throws {
        let book = try PlaybookLoader.parse(
            """
            hosts: all
            version: {detect: app version}
            releases: ["1.0.0", "1.1.0"]
            steps: [{name: up, upload: {src: /dev/zero, dest: /tmp/x}}]
            """, file: "up.yml")
        let warnings = PlaybookCheck.missingUploads(book, hosts: [Host(name: "h1")], target: try #require(Version("1.1.0")))
        #expect(
            warnings.map(\.description) == [
                "up.yml:4: step \"up\": upload source /dev/zero is not a regular file (a device, pipe or folder): the upload would fail"
            ])
    }
}
