/// Durations as playbooks write them (`30s`, `10m`, `1h30m`, `500ms`, or a bare number of
/// seconds) and as plans print them (the same units, largest first).
public enum DurationText {
    /// Parses `1h30m`, `90s`, `0.5s`, `250ms`, `45` (seconds); nil when it is none of those.
    public static func parse(_ text: String) -> Duration? {
        let t = text.trimmingSpaces()
        guard !t.isEmpty else { return nil }
        if t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let seconds = Double(t) { return milliseconds(seconds * 1000) }
        var total = 0.0
        var number = ""
        var unit = ""
        var parts = 0
        func flush() -> Bool {
            guard !number.isEmpty, let n = Double(number), n.isFinite else { return false }
            let factor: Double
            switch unit {
            case "ms": factor = 1
            case "s": factor = 1000
            case "m": factor = 60_000
            case "h": factor = 3_600_000
            case "d": factor = 86_400_000
            default: return false
            }
            total += n * factor
            parts += 1
            number = ""
            unit = ""
            return true
        }
        for ch in t {
            if ch.isASCII && (ch.isNumber || ch == ".") {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(ch)
            } else if ch.isASCII && ch.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(ch)
            } else {
                return nil
            }
        }
        guard flush(), parts > 0 else { return nil }
        return milliseconds(total)
    }

    /// `1h30m`, `45s`, `1.5s`, `250ms`, `0s`.
    public static func format(_ d: Duration) -> String {
        var ms = Int64(d.components.seconds) * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms == 0 { return "0s" }
        if ms < 1000 { return "\(ms)ms" }
        var out = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000)] where ms >= size {
            out += "\(ms / size)\(unit)"
            ms %= size
        }
        if ms > 0 {
            out += ms % 1000 == 0 ? "\(ms / 1000)s" : "\(Double(ms) / 1000)s"
        }
        return out
    }

    /// Whole or fractional seconds, for JSON.
    public static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private static func milliseconds(_ ms: Double) -> Duration { .milliseconds(Int64(ms.rounded())) }
}

extension String {
    /// Without leading and trailing spaces and tabs (Foundation-free).
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

extension Duration {
    /// `2 s`, `1.5 s`, `250 ms`: how messages and `ping -v` say a duration.
    public var messageText: String {
        let ms = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        if ms < 1000 { return "\(Int(ms)) ms" }
        let s = ms / 1000
        return s == s.rounded() ? "\(Int(s)) s" : "\((s * 10).rounded() / 10) s"
    }
}
