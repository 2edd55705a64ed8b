import FleetCore
import Foundation
import Testing

@Suite("wall time: ISO-8601 UTC read and written by hand, as Foundation does")
struct WallTimeTests {
    @Test(
        "milliseconds agree with Foundation's parser",
        arguments: [
            "1970-01-01T00:00:00Z", "2026-12-02T03:15:01.250Z", "2000-02-29T23:59:59.999Z", "2024-03-01T00:00:00.5Z",
            "2100-12-31T12:00:00.123Z", "1999-12-31T23:59:60Z", "1969-12-31T23:59:59.001Z",
        ])
    func agrees(text: String) throws {
        let f = ISO8601DateFormatter()
        f.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        let mine = try #require(WallTime(iso: text))
        if let d = f.date(from: text) {
            #expect(mine.milliseconds == Int((d.timeIntervalSince1970 * 1000).rounded()))
            // Written back as Foundation writes it, with milliseconds.
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            #expect(mine.description == f.string(from: d))
        } else {
            #expect(text.hasSuffix(":60Z"))  // a leap second: Foundation refuses it; it counts as the next second
        }
    }

    @Test("written digit by digit: the table's text (padded texts) with a T and milliseconds, year 0 to 9999 and beyond")
    func digits() {
        var rng = SplitMix64(seed: 17)
        let first = -62_167_219_200_000  // 0000-01-01T00:00:00.000Z
        let last = 253_402_300_799_999  // 9999-12-31T23:59:59.999Z
        var times = [first, last, 0, -1, 999, 1000, first - 1, last + 1, Int(Int32.max) * 1000]
        for _ in 0..<2000 { times.append(first + Int(rng.next() % UInt64(last - first + 1))) }
        for ms in times {
            let t = WallTime(milliseconds: ms)
            let fraction = String(((ms % 1000) + 1000) % 1000)
            let padded = String(repeating: "0", count: 3 - fraction.count) + fraction
            let table = t.tableText.replacingOccurrences(of: " ", with: "T")
            #expect(t.description == table + "." + padded + "Z", "\(ms)")
            #expect(t.iso(milliseconds: false) == table + "Z", "\(ms)")
        }
    }

    @Test("not a time: nil", arguments: ["", "2026-12-02", "2026-12-02T03:15:01", "2026-13-02T03:15:01Z", "2026-12-02T03:15:01.Z", "t"])
    func rejects(text: String) {
        #expect(WallTime(iso: text) == nil)
    }

    @Test("a value: durations by subtraction, order by <, a Duration added; the journal's text both ways")
    func arithmetic() throws {
        let a = try #require(WallTime(iso: "2026-12-02T23:59:59.750Z"))
        let b = a + .milliseconds(500)
        #expect(b.description == "2026-12-03T00:00:00.250Z" && b.iso(milliseconds: false) == "2026-12-03T00:00:00Z")
        #expect(b.tableText == "2026-12-03 00:00:00")
        #expect(b.milliseconds(since: a) == 500 && a < b)
        let json = try JSONEncoder().encode([b])
        #expect(String(decoding: json, as: UTF8.self) == #"["2026-12-03T00:00:00.250Z"]"#)
        #expect(try JSONDecoder().decode([WallTime].self, from: json) == [b])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([WallTime].self, from: Data(#"["yesterday"]"#.utf8)) }
    }
}
