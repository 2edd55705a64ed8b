import FleetCore

/// What a resume will do with each host, in words (`fleetup resume --plan`, and the lines a
/// resume prints before it starts): which step runs again, and why.
public enum ResumePreview {
    /// What `fleetup plan` says about the planned hosts that an earlier run left
    /// mid-upgrade (docs/runs.md, "Resume by steps"), from `records` newest first: for each
    /// host, the newest run that changed it decides (a run that was refused it, or never
    /// reached it, changed nothing). `prod01: run R left it mid-upgrade (5.2.0 -> 5.3.0 at
    /// step 3, after "migrate"): a new run is refused it; `fleetup resume R --plan` shows
    /// what runs again`.
    /// `records` is read only until every planned host is decided (`fleetup plan` folds
    /// journals lazily: the newest run usually decides them all).
    public static func leftMidUpgrade(_ records: some Sequence<RunRecord>, among planned: Set<String>) -> [String] {
        var decided = Set<String>()
        var out: [String] = []
        for record in records {
            if decided.count == planned.count { break }
            for h in record.hosts where planned.contains(h.host) && !decided.contains(h.host) {
                let changed = h.position.hop != nil || !h.position.hopsDone.isEmpty
                guard changed || h.outcome?.isSuccess == true else { continue }
                decided.insert(h.host)
                guard changed, h.outcome?.isSuccess != true, h.outcome != .rolledBack else { continue }
                let id = record.header.id
                out.append(
                    "\(h.host): run \(id) left it mid-upgrade (\(h.position.describe())): a new run is refused it; "
                        + "`fleetup resume \(id) --plan` shows what runs again")
            }
        }
        return out
    }

    /// `resume 20261207-031501-3f2a: flow -> v3.1.2, 6 hosts`
    public static func header(_ record: RunRecord) -> String {
        let h = record.header
        return "resume \(h.id): \(h.playbook) -> \(h.target), \(h.hosts.count) hosts"
    }

    /// One line per host that is not done, in plan order: `prod03: goes on with 5.2.0 ->
    /// 5.3.0 at step 7 "start" (it had started: it runs again; no_return)`.
    public static func lines(
        _ record: RunRecord, work: [String: RolloutMachine.Work], playbook: Playbook,
        hosts: [String: Host], target: Version, overrides: [String: VarValue] = [:]
    ) -> [String] {
        var out: [String] = []
        var done = 0
        for h in record.hosts {
            let what: String
            switch work[h.host] ?? .run {
            case .none:
                if h.outcome?.isSuccess == true { done += 1; continue }
                let retry =
                    h.position.isClean || h.outcome == .rolledBack
                    ? "starts afresh"
                    : describe(
                        h.position, host: hosts[h.host], stage: h.stage, batch: h.batch, playbook: playbook,
                        target: target, overrides: overrides)
                what = "\(h.outcome?.rawValue ?? "pending"): left as it is (--retry-failed: \(retry))"
            case .run:
                what = "starts afresh from the version it reports" + (h.outcome == nil && h.state == .pending ? " (not started yet)" : "")
            case .resume(.fresh), .resume(.replan):
                what = "starts afresh from the version it reports (--replan)"
            case .resume(.resume(let position)):
                what = describe(
                    position, host: hosts[h.host], stage: h.stage, batch: h.batch, playbook: playbook,
                    target: target, overrides: overrides)
            }
            out.append("\(h.host): \(what)")
        }
        if done > 0 { out.append("\(done) host\(done == 1 ? "" : "s") upgraded or already current: not touched") }
        return out
    }

    /// Where a journal position goes on in the path planned from the same version.
    static func describe(
        _ position: HostPosition, host: Host?, stage: String, batch: Int, playbook: Playbook,
        target: Version, overrides: [String: VarValue]
    ) -> String {
        guard let host, let start = position.start else { return "goes on with \(position.describe())" }
        let plan = RolloutPlanner.hostPlan(
            host, stage: stage, batch: batch, playbook: playbook, target: target,
            observed: .known(start, .detected), overrides: overrides)
        guard case .upgrade(let hops) = plan.outcome else {
            return "stops: the playbook now plans no upgrade from \(start) (`--replan \(host.name)` plans it afresh)"
        }
        switch ResumePoint.locate(position, in: hops) {
        case .mismatch(let why):
            return "stops: the playbook changed since: \(why) (`--replan \(host.name)` plans it afresh)"
        case .step(let i, let next, let passed):
            let step = hops[i].steps[next]
            var notes: [String] = []
            if position.attempted { notes.append("it had started: it runs again") }
            if step.noReturn { notes.append("no_return") } else if passed != nil { notes.append("past the point of no return") }
            return "goes on with \(hops[i].from) -> \(hops[i].to) at step \(next + 1) \"\(step.name)\""
                + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
        case .health(let i):
            return "goes on with \(hops[i].from) -> \(hops[i].to) at its health check (every step ran)"
        case .rollback(let i, let next):
            guard next < hops[i].rollback.count else { return "its rollback of \(hops[i].from) -> \(hops[i].to) ran: rolled back" }
            return
                "finishes its rollback of \(hops[i].from) -> \(hops[i].to) at rollback step \(next + 1) \"\(hops[i].rollback[next].name)\""
        }
    }
}
