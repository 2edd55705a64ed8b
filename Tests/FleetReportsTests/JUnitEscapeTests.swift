import Testing

@testable import FleetReports

/// `RunJUnit.escape` returns text that needs no escape as it is: the same text as escaping
/// it scalar by scalar (`escapeScalars`, what it always did), for every character.
@Suite("JUnit escaping")
struct JUnitEscapeTests {
    @Test("every character below U+0100 and a few beyond, alone and amid text, in attributes and in text", arguments: [false, true])
    func everyCharacter(quotes: Bool) {
        var scalars = (0..<0x100).map { UnicodeScalar(UInt8($0)) }
        scalars += [0x2028, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0x1F680, 0x10FFFF].compactMap(UnicodeScalar.init)
        for u in scalars {
            for s in [String(u), "a\(u)b\(u)\(u)", "plain \(u) é 🚀 ✓"] {
                #expect(RunJUnit.escape(s, quotes: quotes) == RunJUnit.escapeScalars(s, quotes: quotes), "U+\(String(u.value, radix: 16))")
            }
        }
        #expect(RunJUnit.escape("", quotes: quotes) == "")
    }
}
