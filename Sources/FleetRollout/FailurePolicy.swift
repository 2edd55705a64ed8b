import FleetCore

/// When a run halts (design.md §5.2): checked every time a host finishes.
///
/// A batch halts the run when its failed hosts are MORE than `maxFailPercentage` of the
/// batch's size; in whole numbers, when `failed × 100 > percentage × size`, so the first
/// failure count that halts is `percentage × size / 100 + 1` (rounded down before the +1).
/// Worked example, 25% on a batch of 4: 1 failure is 25%, not more: goes on; 2 halt
/// (25 × 4 / 100 + 1 = 2). The default 0% halts at the first failure of any batch. 100%
/// never halts on a batch's failures (threshold 5 of 4), even when every host failed:
/// there is no hidden rule. Independently, the run halts when its failed hosts in all are
/// more than `maxFailures`, when that is set. Unreachable hosts count as failed.
public struct FailurePolicy: Sendable, Hashable {
    /// 0-100.
    public var maxFailPercentage: Int
    public var maxFailures: Int?

    public init(maxFailPercentage: Int = 0, maxFailures: Int? = nil) {
        self.maxFailPercentage = maxFailPercentage
        self.maxFailures = maxFailures
    }

    public init(_ policy: RolloutPolicy) {
        self.init(maxFailPercentage: policy.maxFailPercentage, maxFailures: policy.maxFailures)
    }

    /// The failed hosts in a batch of `batchSize` that halt the run (more than the batch
    /// itself when its failures alone never halt it).
    public func haltThreshold(batchSize: Int) -> Int {
        maxFailPercentage * batchSize / 100 + 1
    }

    /// The failed hosts in all that halt the run; nil without `max_failures`.
    public var runThreshold: Int? { maxFailures.map { $0 + 1 } }

    /// Whether the run halts now.
    public func shouldHalt(failedInBatch: Int, batchSize: Int, failedTotal: Int) -> Bool {
        haltReason(failedInBatch: failedInBatch, batchSize: batchSize, failedTotal: failedTotal) != nil
    }

    /// Why the run halts now, or nil when it goes on.
    public func haltReason(failedInBatch: Int, batchSize: Int, failedTotal: Int) -> HaltReason? {
        if failedInBatch * 100 > maxFailPercentage * batchSize {
            return .batchThreshold(failed: failedInBatch, batchSize: batchSize, maxFailPercentage: maxFailPercentage)
        }
        if let maxFailures, failedTotal > maxFailures {
            return .runLimit(failed: failedTotal, maxFailures: maxFailures)
        }
        return nil
    }
}

/// Why a run halted, for the progress line, the journal and the report.
public enum HaltReason: Sendable, Hashable, CustomStringConvertible {
    case batchThreshold(failed: Int, batchSize: Int, maxFailPercentage: Int)
    case runLimit(failed: Int, maxFailures: Int)

    public var description: String {
        switch self {
        case .batchThreshold(let f, let n, let p):
            return "\(f) of \(n) hosts in the batch failed, more than max_fail_percentage \(p)%"
        case .runLimit(let f, let m):
            return "\(f) hosts failed in the run, more than max_failures \(m)"
        }
    }
}
