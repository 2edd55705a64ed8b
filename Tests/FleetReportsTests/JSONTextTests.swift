import FleetCore
import FleetTestSupport
import Testing

@testable import FleetReports

/// `JSON` writes bytes into one buffer (it appended to a `String` scalar by scalar before):
/// the text must not change by a byte, for every character and every shape.
@Suite("JSON text")
struct JSONTextTests {
    /// The quoting as it was written before the byte writer: scalar by scalar.
    static func reference(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    @Test("strings: every character below U+0100 and a few beyond, alone and amid text, quoted as before")
    func quoting() {
        var scalars = (0..<0x100).map { UnicodeScalar(UInt8($0)) }
        scalars += [0x2028, 0x2029, 0xFEFF, 0xFFFD, 0x1F680, 0x10FFFF].compactMap(UnicodeScalar.init)
        for u in scalars {
            for s in [String(u), "a\(u)b\(u)\(u)", "\(u)/\"\\é🚀"] {
                #expect(JSON.string(s).render() == Self.reference(s), "U+\(String(u.value, radix: 16))")
                #expect(JSON.quote(s) == Self.reference(s))
            }
        }
    }

    @Test("shapes: empty and nested arrays and objects, numbers, an indent given, made-as-written elements")
    func shapes() {
        let doc = JSON.object([
            ("a", .array([])), ("o", .object([])), ("n", .null), ("t", .bool(true)), ("f", .bool(false)),
            ("i", .int(-42)), ("d", .number(1.5)), ("big", .number(1e16)),
            ("nested", .array([.array([.int(1)]), .object([("k", .text(nil))])])),
            ("lazy", .elements(3) { .int($0 * 2) }), ("none", .elements(0) { _ in .null }),
        ])
        let want = """
            {
              "a": [],
              "o": {},
              "n": null,
              "t": true,
              "f": false,
              "i": -42,
              "d": 1.5,
              "big": 1e+16,
              "nested": [
                [
                  1
                ],
                {
                  "k": null
                }
              ],
              "lazy": [
                0,
                2,
                4
              ],
              "none": []
            }
            """
        #expect(doc.render() == want)
        #expect(doc.bytes() == Array(want.utf8))
        #expect(JSON.array([.int(1)]).render(indent: "  ") == "[\n    1\n  ]")
    }

    @Test("the run folder's run.json is the rendered text, byte for byte")
    func files() {
        for record in [SampleRun.record] {
            let files = RunReports.files(record)
            for format in RunReportFormat.allCases {
                #expect(files.first { $0.name == format.fileName }?.bytes == Array(RunReports.render(record, format).utf8))
            }
        }
    }
}
