/// Journal times (`2026-12-02T03:15:01.250Z`) as milliseconds, for durations and timelines.
public enum JournalTime {
    /// Milliseconds since 1970 of an ISO-8601 UTC time, with or without fractional
    /// seconds; nil when `text` is not one.
    public static func milliseconds(_ text: String) -> Int? {
        // Parsed by hand: an ISO8601DateFormatter per call cost more than rendering a
        // 200-host report (2.7 s of `fleetup report --format html`).
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
              let sec = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
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
        return ((days(year: y, month: mo, day: d) * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `b - a` in milliseconds, when both are times.
    public static func between(_ a: String?, _ b: String?) -> Int? {
        guard let a, let b, let x = milliseconds(a), let y = milliseconds(b) else { return nil }
        return y - x
    }
}

extension HostRecord {
    /// From its (last) start to its finish; nil when it has not both.
    public var durationMs: Int? { JournalTime.between(startedAt, finishedAt) }

    /// The step whose failure ended the host's upgrade: the last upgrade step that did not
    /// succeed (nil when none failed, e.g. when the health check failed).
    public var failedStep: StepRecord? { steps.last { $0.step.phase == .upgrade && !$0.succeeded } }

    /// The rollback steps that ran, in order.
    public var rollbackSteps: [StepRecord] { steps.filter { $0.step.phase == .rollback } }
}

extension RunRecord {
    /// From the start to `runFinished`; nil while the journal has no end.
    public var durationMs: Int? { JournalTime.between(startedAt, finishedAt) }

    /// `time`'s offset from the run's start in milliseconds.
    public func offsetMs(_ time: String?) -> Int? { JournalTime.between(startedAt, time) }

    /// The hosts of one stage (and batch, 1-based), in plan order.
    public func hosts(stage: String, batch: Int? = nil) -> [HostRecord] {
        hosts.filter { $0.stage == stage && (batch == nil || $0.batch == batch) }
    }
}
