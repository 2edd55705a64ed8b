import Testing

@testable import FleetReports

/// `RunJUnit.escape` works byte by byte: the same text as escaping scalar by scalar (as it
/// was written before), for every character.
@Suite("JUnit escaping")
struct JUnitEscapeTests {
    /// The escape as it was written before: scalar by scalar.
    static func reference(_ s: String, quotes: Bool) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where quotes: out += "&quot;"
            case "'" where quotes: out += "&apos;"
            case "\n" where quotes: out += "&#10;"
            case "\t" where quotes: out += "&#9;"
            case "\r": out += "&#13;"
            case "\n", "\t": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF || (0x7F...0x9F).contains(u.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    @Test("every character below U+0100 and a few beyond, alone and amid text, in attributes and in text", arguments: [false, true])
    func everyCharacter(quotes: Bool) {
        var scalars = (0..<0x100).map { UnicodeScalar(UInt8($0)) }
        scalars += [0x2028, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0x1F680, 0x10FFFF].compactMap(UnicodeScalar.init)
        for u in scalars {
            for s in [String(u), "a\(u)b\(u)\(u)", "plain \(u) é 🚀 ✓", "\(u)\u{FFFE}>\u{9f}"] {
                #expect(RunJUnit.escape(s, quotes: quotes) == Self.reference(s, quotes: quotes), "U+\(String(u.value, radix: 16))")
            }
        }
        #expect(RunJUnit.escape("", quotes: quotes) == "")
    }
}
