import FleetCore

/// What a resumed run does with each host, from the record of the run so far (docs/runs.md,
/// "Resume by steps"): hosts done are not touched; a host the journal left mid-hop goes on
/// from the first step of that hop that did not finish (its version is read only to see
/// that nobody else moved it); hosts never started, or whose work changed nothing, start
/// afresh; failed hosts stay failed unless `retryFailed`, and then they go on the same way
/// (a rolled-back host is clean again: it starts afresh). Hosts named in `replan` start
/// afresh from the version they report whatever the journal says (after a restore by hand).
public enum ResumePlanner {
    public static func work(
        for record: RunRecord, retryFailed: Bool,
        replan: Set<String> = []
    ) -> [String: RolloutMachine.Work] {
        var out: [String: RolloutMachine.Work] = [:]
        for h in record.hosts {
            let again: Bool
            switch h.outcome {
            case nil, .skippedAfterHalt, .interrupted: again = true
            case .upgraded, .alreadyCurrent: again = false
            case .failed, .rolledBack, .unreachable: again = retryFailed || replan.contains(h.host)
            }
            if !again {
                out[h.host] = RolloutMachine.Work.none
            } else if replan.contains(h.host) {
                out[h.host] = .resume(.replan)
            } else if h.position.isClean {
                out[h.host] = .run
            } else {
                out[h.host] = .resume(.resume(h.position))
            }
        }
        return out
    }

    /// Hosts left failed that this resume does not retry.
    public static func failedBefore(_ record: RunRecord, retryFailed: Bool, replan: Set<String> = []) -> Int {
        if retryFailed { return 0 }
        return record.hosts.filter { $0.outcome?.countsAsFailure == true && !replan.contains($0.host) }.count
    }

    /// Stages whose gate was passed (not asked again).
    public static func gatesPassed(_ record: RunRecord) -> Set<String> {
        Set(record.gates.filter { [.open, .approved, .soaked].contains($0.value) }.keys)
    }

    /// What to say when the playbook's rolling policy is not the one the run started
    /// under (which the resume keeps: its batches were cut by it); nil when they agree.
    public static func policyNote(started: RolloutPolicy, now: RolloutPolicy) -> String? {
        guard started != now else { return nil }
        return "the playbook's rolling policy changed since the run started (now \(describe(now))); "
            + "the run goes on under its own (\(describe(started)))"
    }

    /// `batch [1, 25%], max_fail_percentage 0, max_failures 2, pause 30s, gate manual`.
    static func describe(_ p: RolloutPolicy) -> String {
        var out = "batch [\(p.batch.map(\.description).joined(separator: ", "))], max_fail_percentage \(p.maxFailPercentage)"
        if let m = p.maxFailures { out += ", max_failures \(m)" }
        if p.order != .inventory { out += ", order \(p.order.rawValue)" }
        if let spread = p.spread { out += ", \(spread)" }
        return out + ", pause \(DurationText.format(p.pause)), gate \(p.gate)"
    }

    /// Why the run cannot be resumed, or nil.
    public static func refusal(_ record: RunRecord) -> String? {
        if record.outcome == .succeeded { return "run \(record.header.id) succeeded: there is nothing to resume" }
        return nil
    }
}

/// Where in a path planned from the same version a journal position goes on.
public enum ResumePoint: Sendable, Hashable {
    /// Step `index` of hop `hop` runs (again); `pastNoReturn` is the hop's point of no
    /// return when a step before it (or the step itself, when it had started) is `no_return`.
    case step(hop: Int, index: Int, pastNoReturn: PlannedStep?)
    /// Every step of hop `hop` finished: its health check runs (again).
    case health(hop: Int)
    /// Hop `hop`'s rollback had started: it goes on at rollback step `index`.
    case rollback(hop: Int, index: Int)
    /// The path or the steps differ from what the journal ran: the host stops, with why.
    case mismatch(String)

    public static func locate(_ p: HostPosition, in hops: [Hop]) -> ResumePoint {
        guard let current = p.hop else { return .mismatch("no hop was under way") }
        func name(_ k: Int) -> String { k < hops.count ? "\(hops[k].from) -> \(hops[k].to)" : "none" }
        for (k, done) in p.hopsDone.enumerated() where k >= hops.count || hops[k].from != done.from || hops[k].to != done.to {
            return .mismatch("its hop \(k + 1) was \(done), the path is now \(name(k))")
        }
        let i = p.hopsDone.count
        guard i < hops.count, hops[i].from == current.from, hops[i].to == current.to else {
            return .mismatch("its hop \(i + 1) was \(current), the path is now \(name(i))")
        }
        let h = hops[i]
        for (k, ran) in p.done.enumerated() {
            guard k < h.steps.count else { return .mismatch("step \(k + 1) \"\(ran.name)\" ran, the hop now has \(h.steps.count) steps") }
            let now = h.steps[k]
            if now.name != ran.name || now.action.display != ran.command {
                return .mismatch(
                    "step \(k + 1) ran as \"\(ran.name)\": \(ran.command), the playbook now has \"\(now.name)\": \(now.action.display)")
            }
        }
        if let r = p.rollbackDone {
            return r <= h.rollback.count
                ? .rollback(hop: i, index: r)
                : .mismatch("\(r) rollback steps ran, the hop now has \(h.rollback.count)")
        }
        let next = p.done.count
        guard next < h.steps.count else { return .health(hop: i) }
        let passed = h.steps[..<next].first { $0.noReturn } ?? (p.attempted && h.steps[next].noReturn ? h.steps[next] : nil)
        return .step(hop: i, index: next, pastNoReturn: passed)
    }
}
