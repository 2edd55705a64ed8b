import FleetCore
import Testing

@Suite("versions: parsing, ordering, finding one in output")
struct VersionTests {
    @Test(
        "parse",
        arguments: [
            ("5.3.0", [5, 3, 0], [String]()),
            ("v3.1.2", [3, 1, 2], []),
            ("5.10", [5, 10], []),
            ("1", [1], []),
            ("5.3.0-rc1", [5, 3, 0], ["rc1"]),
            ("2.0.0-beta.11", [2, 0, 0], ["beta", "11"]),
            ("1.2.3+build.7", [1, 2, 3], []),
            ("1.2.3.4", [1, 2, 3, 4], []),
        ])
    func parse(text: String, numbers: [Int], pre: [String]) throws {
        let v = try #require(Version(text))
        #expect(v.numbers == numbers)
        #expect(v.prerelease == pre)
        #expect(v.text == text)
    }

    @Test(
        "not versions",
        arguments: ["", "v", "5.", ".5", "5..1", "5.x.0", "1.2.3.4.5", "1.2.3-", "1.2.3-a..b", "1.2.3+", "latest", "1.2.3 "])
    func invalid(text: String) {
        #expect(Version(text) == nil)
    }

    @Test(
        "ordering",
        arguments: [
            ("5.9.1", "5.10.0"),  // numbers compare as numbers
            ("5.3.0-rc1", "5.3.0"),  // a pre-release comes before its release
            ("1.0.0-alpha", "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", "1.0.0-alpha.beta"),  // numeric identifiers before alphanumeric ones
            ("1.0.0-beta.2", "1.0.0-beta.11"),  // numerically
            ("1.0.0-beta.11", "1.0.0-rc.1"),
            ("v3.0.2", "3.1.0"),  // the leading v is ignored
            ("2.9.9", "3"),
            ("1.2.3", "1.2.3.1"),
        ])
    func ordering(lower: String, higher: String) throws {
        let a = try #require(Version(lower)), b = try #require(Version(higher))
        #expect(a < b)
        #expect(!(b < a))
        #expect(a != b)
    }

    @Test("equal versions written differently", arguments: [("v3.1.2", "3.1.2"), ("5.3", "5.3.0"), ("1.2.3+a", "1.2.3+b")])
    func equal(a: String, b: String) throws {
        let x = try #require(Version(a)), y = try #require(Version(b))
        #expect(x == y)
        #expect(x.hashValue == y.hashValue)
    }

    @Test(
        "the first x.y.z in a command's output",
        arguments: [
            ("Version: 5.3.0\nBuild Number: 5.3.0", "5.3.0"),  // mattermost version
            ("v3.1.2\n", "v3.1.2"),  // git describe --tags
            ("Mattermost 5.10.1-rc2 (build 77)", "5.10.1-rc2"),
            ("listening on 10.0.0.1 since 2024; app 4.1.0", "4.1.0"),  // an address is no version
            ("python3.11.2 then 1.2.3", "1.2.3"),  // nor part of a word
            ("Version: 5.3", nil),  // two numbers are not x.y.z
            ("no version here", nil),
            ("1.2.3.4", nil),  // four numbers: an address, not x.y.z
            ("(7.0.0)", "7.0.0"),
            ("VERSION=V2.0.1", "V2.0.1"),
        ] as [(String, String?)])
    func first(output: String, expected: String?) {
        #expect(Version.first(in: output)?.text == expected)
    }

    @Test(
        "durations",
        arguments: [
            ("30s", 30_000), ("10m", 600_000), ("1h30m", 5_400_000), ("500ms", 500), ("45", 45_000), ("1.5s", 1500),
            ("2d", 172_800_000), ("0", 0),
        ])
    func durations(text: String, ms: Int64) throws {
        let d = try #require(DurationText.parse(text))
        #expect(d == .milliseconds(ms))
    }

    @Test("not durations", arguments: ["", "s", "10x", "-5s", "1h 30m", "5 minutes", "ten"])
    func badDurations(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(
        "durations written back",
        arguments: [(30_000, "30s"), (90_000, "1m30s"), (3_600_000, "1h"), (250, "250ms"), (1500, "1.5s"), (0, "0s")] as [(Int64, String)])
    func format(ms: Int64, text: String) {
        #expect(DurationText.format(.milliseconds(ms)) == text)
    }
}
