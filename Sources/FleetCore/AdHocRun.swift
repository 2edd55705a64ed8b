/// How one host fared with an ad-hoc command (`fleetup exec`).
public enum AdHocOutcome: Sendable, Hashable {
    /// The command ran and ended (any exit status, a signal, or its timeout).
    case ran(CommandResult)
    /// No command ran: the host could not be reached, its key was refused, auth failed,
    /// or the server refused the channel.
    case failed(RemoteError)

    /// The bucket the summary counts the host in.
    public var category: AdHocCategory {
        switch self {
        case .ran(let r):
            if r.timedOut { return .timedOut }
            return r.succeeded ? .ok : .failed
        case .failed(let e):
            return e.isConnectionFailure ? .unreachable : .failed
        }
    }

    /// `exit 0`, `killed by KILL`, `timed out`, `unreachable: connection refused`.
    public var text: String {
        switch self {
        case .ran(let r): return r.outcomeText
        case .failed(let e): return "\(e.kind.rawValue): \(e.message)"
        }
    }
}

/// The summary buckets of an ad-hoc run, in the order the summary line shows them.
public enum AdHocCategory: String, Sendable, Hashable, CaseIterable, Codable {
    case ok
    case failed
    case unreachable
    case timedOut = "timed out"
}

/// One host's line in an ad-hoc run.
public struct AdHocHostResult: Sendable, Hashable {
    public var host: String
    public var outcome: AdHocOutcome
    public init(host: String, outcome: AdHocOutcome) {
        self.host = host
        self.outcome = outcome
    }
}

/// An ad-hoc command over a set of hosts: what ran, and every host's result in inventory order.
public struct AdHocRun: Sendable, Hashable {
    /// The command as shown (secrets redacted).
    public var command: String
    public var results: [AdHocHostResult]
    /// From the first connection attempt to the last result.
    public var duration: Duration
    /// True when the run was interrupted (Ctrl-C) before every host finished.
    public var interrupted: Bool

    public init(command: String, results: [AdHocHostResult], duration: Duration, interrupted: Bool = false) {
        self.command = command
        self.results = results
        self.duration = duration
        self.interrupted = interrupted
    }

    /// Hosts per bucket (every bucket present, zero included).
    public var counts: [AdHocCategory: Int] {
        var c = Dictionary(uniqueKeysWithValues: AdHocCategory.allCases.map { ($0, 0) })
        for r in results { c[r.outcome.category, default: 0] += 1 }
        return c
    }

    /// True when every host ran the command with exit status 0.
    public var allSucceeded: Bool { !results.isEmpty && results.allSatisfy { $0.outcome.category == .ok } }

    /// True when not a single host could be reached.
    public var noneReachable: Bool {
        !results.isEmpty && results.allSatisfy { $0.outcome.category == .unreachable }
    }
}
