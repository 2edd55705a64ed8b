import FleetCore
import Foundation
import Testing

@Suite("journal times: ISO-8601 UTC parsed by hand, as Foundation reads them")
struct JournalTimeTests {
    @Test("milliseconds agree with Foundation's parser", arguments: [
        "1970-01-01T00:00:00Z", "2026-12-02T03:15:01.250Z", "2000-02-29T23:59:59.999Z", "2024-03-01T00:00:00.5Z",
        "2100-12-31T12:00:00.123Z", "1999-12-31T23:59:60Z",
    ])
    func agrees(text: String) throws {
        let f = ISO8601DateFormatter()
        f.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        let mine = try #require(JournalTime.milliseconds(text))
        if let d = f.date(from: text) {
            #expect(mine == Int((d.timeIntervalSince1970 * 1000).rounded()))
        } else {
            #expect(text.hasSuffix(":60Z"))   // a leap second: Foundation refuses it; it counts as the next second
        }
    }

    @Test("not a time: nil", arguments: ["", "2026-12-02", "2026-12-02T03:15:01", "2026-13-02T03:15:01Z", "2026-12-02T03:15:01.Z", "t"])
    func rejects(text: String) {
        #expect(JournalTime.milliseconds(text) == nil)
        #expect(JournalTime.between(text, "2026-12-02T03:15:01Z") == nil)
    }
}
