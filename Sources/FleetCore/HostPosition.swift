/// Where a host's upgrade stands by its journal: what `fleetup resume` goes on from
/// (docs/runs.md, "Resume by steps"). The fold (`RunRecord`) builds it entry by entry.
///
/// The version a host reports is NOT where it stands: a step that changes what the version
/// command reads (a `git checkout`, an unpacked release) can run long before the step that
/// migrates the data. The journal knows which steps finished, so a resume goes on from the
/// first step of the hop under way that did not finish with success.
///
/// Worked example (playbooks/flow.yml, v3.1.1 -> v3.1.2): the journal holds
/// `hopStarted v3.1.1 -> v3.1.2`, `fetch tags` finished, `check out the release` finished,
/// `migrate the database` started and the coordinator was killed. The position is
/// `start v3.1.1, hop v3.1.1 -> v3.1.2, done [fetch tags, check out the release],
/// attempted true`: a resume runs `migrate the database` again (step 3), then the rest. The
/// host already reports v3.1.2; that only tells the resume that nobody else moved it.
public struct HostPosition: Sendable, Hashable, Codable {
    /// One hop by its releases, as the journal names it.
    public struct HopName: Sendable, Hashable, Codable, CustomStringConvertible {
        public var from: String
        public var to: String
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
        public var description: String { "\(from) -> \(to)" }
    }

    /// The version the host's current attempt was planned from (its first version read).
    public var start: String?
    /// Hops before the one under way: their steps finished and their health check passed.
    public var hopsDone: [HopName] = []
    /// The hop under way (started, and the host did not finish it).
    public var hop: HopName?
    /// The hop's steps that finished with success, in order: step `i` is `done[i]`.
    public var done: [StepRef] = []
    /// Whether step `done.count` was started (and did not finish with success): it may have
    /// done part of its work, so a `no_return` step there counts as passed.
    public var attempted = false
    /// The hop's rollback steps that finished with success; nil while no rollback step started.
    public var rollbackDone: Int?

    public init() {}

    /// Nothing the journal records changed the host in this attempt: a resume plans it
    /// afresh from the version it reports.
    public var isClean: Bool { hop == nil }

    /// The versions a host in this position can report: the hop's two ends (the step that
    /// changes what the version command reads can be anywhere in the hop).
    public var expectedVersions: [String] { hop.map { [$0.from, $0.to] } ?? [] }

    /// `5.2.0 -> 5.3.0 at step 7, after "put config.json back"`, `5.2.0 -> 5.3.0 at rollback
    /// step 2`: where a resume goes on, for journals and messages (the step's own name needs
    /// the plan: `fleetup resume --plan` shows it).
    public func describe() -> String {
        guard let hop else { return "afresh" }
        if let r = rollbackDone { return "\(hop) at rollback step \(r + 1)" }
        return "\(hop) at step \(done.count + 1)" + (done.last.map { ", after \"\($0.name)\"" } ?? "")
    }

    // MARK: the fold's part

    /// A new attempt (a first start, or a resume that plans it afresh).
    mutating func reset() { self = HostPosition() }

    mutating func versionRead(_ version: String?) {
        if hop == nil && hopsDone.isEmpty && start == nil { start = version }
    }

    /// A hop starts. A hop starts only after the one before passed its health check, so
    /// the hop under way, if any, is done.
    mutating func hopStarted(from: String, to: String) {
        if let hop { hopsDone.append(hop) }
        hop = HopName(from: from, to: to)
        done = []
        attempted = false
        rollbackDone = nil
    }

    mutating func stepStarted(_ step: StepRef) {
        guard let hop, step.from == hop.from, step.to == hop.to else { return }
        switch step.phase {
        case .upgrade: if step.index == done.count { attempted = true }
        case .rollback: if rollbackDone == nil { rollbackDone = 0 }
        }
    }

    mutating func stepFinished(_ record: StepRecord) {
        let step = record.step
        guard let hop, step.from == hop.from, step.to == hop.to, record.succeeded else { return }
        switch step.phase {
        case .upgrade:
            if step.index == done.count && rollbackDone == nil {
                done.append(step)
                attempted = false
            }
        case .rollback:
            if step.index == rollbackDone { rollbackDone = step.index + 1 }
        }
    }

    mutating func hostFinished(_ outcome: HostOutcome) {
        // A finished rollback put the host back where the hop started: it is clean again.
        if outcome == .rolledBack { reset() }
    }
}
