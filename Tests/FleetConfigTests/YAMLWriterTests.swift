import FleetCore
import Testing
import Yams

@testable import FleetConfig

/// `--list --yaml` and `--host --yaml` write YAML themselves: every value must read back
/// (with fleetup's own YAML reader) as the value written.
@Suite("YAML writer")
struct YAMLWriterTests {
    static let strings = [
        "plain", "", " leading space", "trailing ", "yes", "no", "y", "N", "null", "~", "true", "1", "1.0", "0x1f", "1e3", ".inf",
        "a: b", "#comment", "- dash", "[x]", "{x}", "'single'", "\"double\"", "back\\slash", "line\nbreak", "tab\there",
        "cr\rhere", "nul\u{0}byte", "bell\u{7}", "del\u{7F}", "nel\u{85}", "nbsp\u{A0}", "ls\u{2028}ps\u{2029}", "bom\u{FEFF}",
        "é ü 日本", "emoji 🚀", "\u{10FFFF}", "%tag", "@at", "`tick", "*alias", "&anchor", "!tag", "|pipe", ">fold", "?q", "key:",
        "/srv/app", "_under", "web-01.example.com",
    ]

    static var sample: VarValue {
        .map([
            "strings": .list(strings.map(VarValue.string)),
            "keys": .map(Dictionary(uniqueKeysWithValues: strings.map { ($0, VarValue.int($0.unicodeScalars.count)) })),
            "numbers": .list([.int(0), .int(-7), .int(Int.max), .int(Int.min), .double(1.5), .double(-0.25), .double(1e300)]),
            "special": .list([.null, .bool(true), .bool(false), .double(.infinity), .double(-.infinity)]),
            "empty": .map(["map": .map([:]), "list": .list([])]),
            "nested": .list([
                .map(["a": .list([.list([.int(1), .list([])]), .map(["b": .map(["c": .string("deep")])])])]),
                .list([.string("x"), .map([:])]),
            ]),
        ])
    }

    @Test("every value reads back as written: quoting, escapes, unicode, nesting, empty collections")
    func roundTrip() throws {
        let text = InventoryRender.yaml(Self.sample)
        let read = try InventoryCorpusTests.tree(text)
        let written = PythonJSON.render(Self.sample, indent: nil)
        #expect(read == written, "\(text)")
    }

    @Test("layout: block style, two spaces a level, empty collections inline, a secret masked in single quotes")
    func layout() {
        let value = VarValue.map([
            "all": .map([
                "hosts": .map([
                    "web1": .map([:]), "web2": .map(["token": .secret(Secret("s3cr3t")), "ports": .list([.int(80), .int(443)])]),
                ])
            ])
        ])
        #expect(
            InventoryRender.yaml(value) == """
                all:
                  hosts:
                    web1: {}
                    web2:
                      ports:
                        - 80
                        - 443
                      token: '[REDACTED]'

                """)
        #expect(InventoryRender.yaml(.map([:])) == "{}\n")
    }

    @Test("NaN reads back as NaN")
    func nan() throws {
        #expect(InventoryRender.yaml(.map(["x": .double(.nan)])) == "x: .nan\n")
    }
}
