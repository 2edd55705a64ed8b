import Foundation

/// Journal times (`2026-12-02T03:15:01.250Z`) as milliseconds, for durations and timelines.
public enum JournalTime {
    /// Milliseconds since 1970 of an ISO-8601 UTC time, with or without fractional
    /// seconds; nil when `text` is not one.
    public static func milliseconds(_ text: String) -> Int? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return Int((d.timeIntervalSince1970 * 1000).rounded()) }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text).map { Int($0.timeIntervalSince1970) * 1000 }
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
