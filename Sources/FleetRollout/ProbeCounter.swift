import FleetCore

/// Kubernetes counting for one probe (design.md §5.3), pure: attempts go in with their
/// times (offsets from the health check's start), the verdict comes out.
///
/// The first attempt starts at `initialDelay`; each next one `period` after the previous
/// one STARTED (at once when an attempt took longer than the period). The probe is healthy
/// after `successThreshold` consecutive passes, unhealthy after `failureThreshold`
/// consecutive failures, and unhealthy when the deadline (counted from the first attempt's
/// start) would pass before the next attempt could start. Worked example, period 2s,
/// failure_threshold 3, deadline 60s: fail at 0s, 2s, 4s → unhealthy at 4s; with
/// success_threshold 2, fail, pass, fail, fail, fail → unhealthy on the fifth attempt (the
/// pass reset the failure count without making it healthy).
public struct ProbeCounter: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        case healthy(String)
        case unhealthy(String)
        /// Start the next attempt at this offset.
        case next(at: Duration)
    }

    public let timing: ProbeTiming
    public private(set) var attempts: [ProbeAttempt] = []
    private var passes = 0
    private var failures = 0
    private var firstStart: Duration?

    public init(_ timing: ProbeTiming) { self.timing = timing }

    /// When the first attempt starts.
    public var firstAttempt: Duration { timing.initialDelay }

    /// Counts one finished attempt.
    public mutating func record(startedAt: Duration, endedAt: Duration, passed: Bool, detail: String) -> Verdict {
        if firstStart == nil { firstStart = startedAt }
        attempts.append(
            ProbeAttempt(
                atMs: startedAt.milliseconds, durationMs: (endedAt - startedAt).milliseconds,
                passed: passed, detail: detail))
        if passed {
            passes += 1
            failures = 0
            if passes >= max(1, timing.successThreshold) {
                return .healthy(passes == 1 ? "passed" : "\(passes) consecutive passes")
            }
        } else {
            failures += 1
            passes = 0
            if failures >= max(1, timing.failureThreshold) {
                return .unhealthy(failures == 1 ? "failed" : "\(failures) consecutive failures")
            }
        }
        let next = max(endedAt, startedAt + timing.period)
        if next - firstStart! >= timing.deadline {
            return .unhealthy("not healthy within its deadline of \(DurationText.format(timing.deadline))")
        }
        return .next(at: next)
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    public var milliseconds: Int {
        let (s, atto) = components
        return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
    }
}
