/// Durations as playbooks write them (`30s`, `10m`, `1h30m`, `500ms`, or a bare number of
/// seconds) and as plans print them (the same units, largest first).
public enum DurationText {
    /// The longest duration fleetup accepts anywhere (a pause, a soak, a step or probe
    /// timeout, `--timeout`, `--connect-timeout`): 30 days. No rollout waits that long, so a
    /// longer one is a typo; and well past it the conversion to a whole number of
    /// milliseconds would overflow (`99999999999999999999d` once stopped fleetup with a trap).
    public static let maximum: Duration = .seconds(30 * 86_400)

    /// Why a text is not an acceptable duration.
    public enum Problem: Error, Sendable, Hashable {
        /// Not written as a duration at all.
        case notADuration
        /// A duration, but longer than `maximum`.
        case tooLong
    }

    /// Parses `1h30m`, `90s`, `0.5s`, `250ms`, `45` (seconds); nil when it is none of those,
    /// or longer than `maximum` (`read` says which).
    public static func parse(_ text: String) -> Duration? { try? read(text).get() }

    /// Parses like `parse`, saying why a text is refused.
    public static func read(_ text: String) -> Result<Duration, Problem> {
        guard let ms = totalMilliseconds(text) else { return .failure(.notADuration) }
        return milliseconds(ms)
    }

    /// `expected a duration such as ...` or `expected a duration of at most 30d`: the end of
    /// a message about `problem`, for every place that reads durations.
    public static func expected(_ problem: Problem) -> String {
        switch problem {
        case .notADuration: return "expected a duration such as 30s, 10m, 1h30m or 500ms"
        case .tooLong: return "expected a duration of at most \(format(maximum)) (the longest fleetup accepts)"
        }
    }

    /// A number of seconds given on the command line (`2`, `0.5`) as a Duration: positive,
    /// finite and at most `maximum`; nil otherwise (`inf`, `1e300` and `nan` are numbers to
    /// Swift's Double, and converting them traps).
    public static func seconds(_ value: Double) -> Duration? {
        guard value > 0, value.isFinite else { return nil }
        return try? milliseconds(value * 1000).get()
    }

    private static func totalMilliseconds(_ text: String) -> Double? {
        let t = text.trimmingSpaces()
        guard !t.isEmpty else { return nil }
        if t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) { return Double(t).map { $0 * 1000 } }
        var total = 0.0
        var number = ""
        var unit = ""
        var parts = 0
        func flush() -> Bool {
            guard !number.isEmpty, let n = Double(number) else { return false }  // inf: tooLong below
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
        return total
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

    /// Checked before the conversion to Int64, which traps past Int64.max (and on inf/nan).
    private static func milliseconds(_ ms: Double) -> Result<Duration, Problem> {
        let whole = ms.rounded()
        guard whole.isFinite, whole <= Double(maximum.components.seconds) * 1000 else { return .failure(.tooLong) }
        return .success(.milliseconds(Int64(whole)))
    }
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
