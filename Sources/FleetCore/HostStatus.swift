/// A host's place in a run: its outcome, or where it is in a run that has not ended. The
/// one vocabulary of reports, the live progress and the summary.
public enum HostStatus: Sendable, Hashable {
    case outcome(HostOutcome)
    /// Started, not finished when the journal ends.
    case running
    /// Not started (yet, or again since a resume).
    case pending

    public init(_ host: HostRecord) {
        if let o = host.outcome { self = .outcome(o) } else { self = host.state == .running ? .running : .pending }
    }

    /// Every status, in the order reports list them: successes, failures, the rest.
    public static let all: [HostStatus] = [
        .outcome(.upgraded), .outcome(.alreadyCurrent), .outcome(.failed), .outcome(.rolledBack),
        .outcome(.unreachable), .outcome(.interrupted), .outcome(.skippedAfterHalt), .running, .pending,
    ]

    /// `upgraded`, `rolled-back`, `running`… (the JSON values).
    public var label: String {
        switch self {
        case .outcome(let o): return o.rawValue
        case .running: return "running"
        case .pending: return "pending"
        }
    }

    /// The JSON summary's key: `rolled_back`.
    public var key: String { String(label.map { $0 == "-" ? "_" : $0 }) }

    /// Needs someone to look: failed, rolled back, unreachable, interrupted.
    public var needsAttention: Bool {
        if case .outcome(let o) = self { return o.countsAsFailure || o == .interrupted }
        return false
    }
}

/// Counts of hosts by status.
public struct StatusCounts: Sendable, Hashable {
    public private(set) var counts: [HostStatus: Int] = [:]
    public private(set) var total = 0

    public init() {}

    public init<S: Sequence>(_ hosts: S) where S.Element == HostRecord {
        for h in hosts { add(HostStatus(h)) }
    }

    public subscript(_ s: HostStatus) -> Int { counts[s] ?? 0 }

    /// One more host with this status.
    public mutating func add(_ s: HostStatus) {
        counts[s, default: 0] += 1
        total += 1
    }

    /// A host moved from one status to another.
    mutating func move(from old: HostStatus, to new: HostStatus) {
        guard old != new else { return }
        counts[old, default: 0] -= 1
        if counts[old] == 0 { counts[old] = nil }
        counts[new, default: 0] += 1
    }

    /// Hosts that count against the failure policy (failed, rolled back, unreachable).
    public var failures: Int {
        counts.filter {
            if case .outcome(let o) = $0.key { return o.countsAsFailure }; return false
        }.values.reduce(0, +)
    }

    /// `2 upgraded, 1 failed, 3 skipped-after-halt` (only statuses that occur), or `no hosts`.
    public var text: String {
        let parts = HostStatus.all.filter { self[$0] > 0 }.map { "\(self[$0]) \($0.label)" }
        return parts.isEmpty ? "no hosts" : parts.joined(separator: ", ")
    }
}
