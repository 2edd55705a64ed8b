import FleetCore

/// What a resumed run does with each host, from the record of the run so far (design.md
/// §5.7): hosts done are not touched; a host that was mid-step, or was interrupted, is
/// re-checked (version and health) before anything else; hosts never started run; failed
/// hosts stay failed unless `retryFailed`, and then they are re-checked like the others.
public enum ResumePlanner {
    public static func work(for record: RunRecord, retryFailed: Bool) -> [String: RolloutMachine.Work] {
        var out: [String: RolloutMachine.Work] = [:]
        for h in record.hosts {
            switch h.state {
            case .pending: out[h.host] = .run
            case .running: out[h.host] = .recheck
            case .finished:
                switch h.outcome ?? .skippedAfterHalt {
                case .upgraded, .alreadyCurrent: out[h.host] = RolloutMachine.Work.none
                case .skippedAfterHalt: out[h.host] = .run
                case .interrupted: out[h.host] = .recheck
                case .failed, .rolledBack, .unreachable: out[h.host] = retryFailed ? .recheck : RolloutMachine.Work.none
                }
            }
        }
        return out
    }

    /// Hosts left failed that this resume does not retry.
    public static func failedBefore(_ record: RunRecord, retryFailed: Bool) -> Int {
        retryFailed ? 0 : record.hosts.filter { $0.outcome?.countsAsFailure == true }.count
    }

    /// Stages whose gate was passed (not asked again).
    public static func gatesPassed(_ record: RunRecord) -> Set<String> {
        Set(record.gates.filter { [.open, .approved, .soaked].contains($0.value) }.keys)
    }

    /// Why the run cannot be resumed, or nil.
    public static func refusal(_ record: RunRecord) -> String? {
        if record.outcome == .succeeded { return "run \(record.header.id) succeeded: there is nothing to resume" }
        return nil
    }
}
