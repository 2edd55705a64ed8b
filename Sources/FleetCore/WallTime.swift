/// A moment of wall-clock time, to the millisecond: when a journal entry was written, when a
/// run or a host started and finished. A value: durations are subtractions, order is `<`.
///
/// Text only at the edges: its `Codable` conformance (what the journal's encoder writes and
/// its decoder reads) and `description` are ISO-8601 UTC with milliseconds,
/// `2026-12-02T03:15:01.250Z`; `init?(iso:)` is the one parser (by hand: a Foundation
/// formatter per call once made a 200-host report take 2.7 s). FleetCore has no clock of its
/// own: the coordinator counts from a start the caller reads (`WallTime.now` in the CLI).
public struct WallTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let milliseconds: Int

    public init(milliseconds: Int) { self.milliseconds = milliseconds }

    /// Reads `2026-12-02T03:15:01Z` or `2026-12-02T03:15:01.250Z` (any number of fraction
    /// digits, kept to the millisecond); nil for anything else.
    public init?(iso text: String) {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for c in b[from..<from + count] {
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58,
            let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
            let sec = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61
        else { return nil }
        var i = 19
        var ms = 0
        if b[i] == 46 {
            var digits = 0
            i += 1
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 3 { ms = ms * 10 + Int(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { ms *= 10 }
        }
        guard i == b.count - 1, b[i] == 90 else { return nil }
        milliseconds = ((Self.days(year: y, month: mo, day: d) * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms
    }

    /// `2026-12-02T03:15:01.250Z`.
    public var description: String { iso(milliseconds: true) }

    /// `2026-12-02T03:15:01.250Z`, or `2026-12-02T03:15:01Z` without them.
    public func iso(milliseconds withMs: Bool) -> String {
        let (date, time) = civil
        if (0...9999).contains(date.y) {
            // Digits into one buffer: a journal line's time was 3 % of a 5,000-host run's CPU
            // built from padded texts. Years outside 0...9999 keep the texts below.
            return String(unsafeUninitializedCapacity: 24) { b in
                var i = 0
                func put(_ n: Int, _ width: Int) {
                    var n = n
                    for k in stride(from: width - 1, through: 0, by: -1) {
                        b[i + k] = UInt8(ascii: "0") + UInt8(n % 10)
                        n /= 10
                    }
                    i += width
                }
                func put(_ c: Unicode.Scalar) {
                    b[i] = UInt8(ascii: c)
                    i += 1
                }
                put(date.y, 4)
                put("-")
                put(date.m, 2)
                put("-")
                put(date.d, 2)
                put("T")
                put(time.h, 2)
                put(":")
                put(time.mi, 2)
                put(":")
                put(time.s, 2)
                if withMs {
                    put(".")
                    put(time.ms, 3)
                }
                put("Z")
                return i
            }
        }
        let ms = withMs ? "." + Self.pad(time.ms, 3) : ""
        return "\(Self.pad(date.y, 4))-\(Self.pad(date.m, 2))-\(Self.pad(date.d, 2))T"
            + "\(Self.pad(time.h, 2)):\(Self.pad(time.mi, 2)):\(Self.pad(time.s, 2))\(ms)Z"
    }

    /// `2026-12-02 03:15:01` (UTC), as tables show a start.
    public var tableText: String {
        let (date, time) = civil
        return "\(Self.pad(date.y, 4))-\(Self.pad(date.m, 2))-\(Self.pad(date.d, 2)) "
            + "\(Self.pad(time.h, 2)):\(Self.pad(time.mi, 2)):\(Self.pad(time.s, 2))"
    }

    /// Milliseconds from `earlier` to this time (negative when it is later).
    public func milliseconds(since earlier: WallTime) -> Int { milliseconds - earlier.milliseconds }

    public static func + (t: WallTime, d: Duration) -> WallTime {
        let (s, atto) = d.components
        return WallTime(milliseconds: t.milliseconds + Int(s) * 1000 + Int(atto / 1_000_000_000_000_000))
    }

    public static func < (a: WallTime, b: WallTime) -> Bool { a.milliseconds < b.milliseconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let t = WallTime(iso: text) else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "expected an ISO-8601 UTC time such as 2026-12-02T03:15:01.250Z, got \"\(text)\"")
        }
        self = t
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    // MARK: the calendar (proleptic Gregorian, UTC)

    /// Days from 1970-01-01 to a date.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date and time of day this moment is, in UTC.
    private var civil: (date: (y: Int, m: Int, d: Int), time: (h: Int, mi: Int, s: Int, ms: Int)) {
        let dayMs = 86_400_000
        var days = milliseconds / dayMs
        var rest = milliseconds % dayMs
        if rest < 0 {
            rest += dayMs
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return ((y, m, d), (rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60, rest % 1000))
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
