/// One host's part of a run, folded from the journal.
public struct HostRecord: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Not started yet (or not again since a resume).
        case pending
        /// Started and not finished: mid-step when the journal ends.
        case running
        case finished
    }

    public var host: String
    public var stage: String
    /// 1-based within the stage.
    public var batch: Int
    public var state: State
    /// Set once finished (or skipped).
    public var result: HostResult?
    public var steps: [StepRecord]
    public var health: [HealthRecord]
    /// The step started and not finished, when the journal ends mid-step.
    public var inFlightStep: StepRef?
    public var startedAt: WallTime?
    public var finishedAt: WallTime?
    /// Where its upgrade stands by the journal: what a resume goes on from.
    public var position = HostPosition()

    public init(host: String, stage: String, batch: Int) {
        self.host = host
        self.stage = stage
        self.batch = batch
        state = .pending
        steps = []
        health = []
    }

    public var outcome: HostOutcome? { result?.outcome }
}

/// The one record of a run (design.md §6), built from its journal alone, so it is the same
/// whether the run finished, halted, was killed or resumed.
public struct RunRecord: Sendable, Hashable {
    public var header: RunHeader
    public var startedAt: WallTime
    public var finishedAt: WallTime?
    /// nil while the journal has no `runFinished` after its last start or resume.
    public var outcome: RunOutcome?
    public var haltReason: String?
    /// In plan order.
    public private(set) var hosts: [HostRecord]
    /// Hosts by status, kept as the fold goes (what the live progress and the summary count).
    public private(set) var statusCounts = StatusCounts()
    /// Gates passed, by the stage they follow.
    public var gates: [String: GateDecision]
    public var resumes: Int
    /// Who did what, in order: the start, each gate (who approved, and why), each resume
    /// (who, from which machine), the halt.
    public var actions: [RunAction]
    /// The stage whose gate the run is waiting at for an approval from elsewhere, until the
    /// gate is decided.
    public var waitingAt: String?
    /// The last journal sequence number.
    public var lastSeq: Int

    /// Where each host is in `hosts`, by name.
    private var index: [String: Int] = [:]

    /// A run's record as its first entry (`runStarted`) starts it: every host pending.
    public init(header entry: JournalEntry) throws(RunRecordError) {
        guard case .runStarted(let header) = entry.event else {
            throw RunRecordError("the journal does not start with the run's header")
        }
        self.header = header
        startedAt = entry.time
        gates = [:]
        resumes = 0
        actions = [RunAction(kind: .started, at: entry.time, by: "\(header.user)@\(header.machine)")]
        lastSeq = entry.seq
        hosts = []
        for stage in header.stages {
            for (b, batch) in stage.batches.enumerated() {
                for h in batch {
                    index[h] = hosts.count
                    hosts.append(HostRecord(host: h, stage: stage.name, batch: b + 1))
                    statusCounts.add(.pending)
                }
            }
        }
    }

    /// Folds a journal. Its first entry must be `runStarted`.
    public init(entries: [JournalEntry]) throws(RunRecordError) {
        guard let first = entries.first else { throw RunRecordError("the journal does not start with the run's header") }
        try self.init(header: first)
        for entry in entries.dropFirst() { try apply(entry) }
    }

    /// The fold, one entry at a time: what `fleetup run` keeps live, what reading a
    /// journal back does. An entry it cannot take is an error naming its `seq`.
    public mutating func apply(_ entry: JournalEntry) throws(RunRecordError) {
        lastSeq = entry.seq
        let e = entry.event
        // The host's place, looked up once (`i` is only read by the cases that name a host).
        var i = -1
        if let h = e.host {
            guard let at = index[h] else {
                throw RunRecordError("journal entry \(entry.seq) names host \(h), which is not in the run's plan")
            }
            i = at
        }
        switch e {
        case .runStarted:
            throw RunRecordError("journal entry \(entry.seq) starts the run a second time")
        case .resumed(let user, let machine, let retryFailed):
            resumes += 1
            waitingAt = nil
            actions.append(
                RunAction(kind: .resumed, at: entry.time, by: "\(user)@\(machine)", detail: retryFailed ? "retrying failed hosts" : nil))
            outcome = nil
            finishedAt = nil
            haltReason = nil
        case .hostStarted(_, _, let resumeAt):
            if resumeAt == nil { hosts[i].position.reset() }
            counted(i) {
                $0.state = .running
                $0.result = nil
            }
            hosts[i].inFlightStep = nil
            hosts[i].startedAt = entry.time
            hosts[i].finishedAt = nil
        case .stepStarted(_, let step):
            hosts[i].inFlightStep = step
            hosts[i].position.stepStarted(step)
        case .stepFinished(_, let record):
            hosts[i].inFlightStep = nil
            hosts[i].steps.append(record)
            hosts[i].position.stepFinished(record)
        case .versionRead(_, let version, _):
            hosts[i].position.versionRead(version)
        case .hopStarted(_, let from, let to):
            hosts[i].position.hopStarted(from: from, to: to)
        case .healthChecked(_, let record):
            hosts[i].health.append(record)
        case .hostFinished(_, let result):
            counted(i) {
                $0.state = .finished
                $0.result = result
            }
            hosts[i].inFlightStep = nil
            hosts[i].finishedAt = entry.time
            hosts[i].position.hostFinished(result.outcome)
        case .hostsSkipped(let names, let reason):
            for h in names {
                guard let i = index[h] else {
                    throw RunRecordError("journal entry \(entry.seq) skips host \(h), which is not in the run's plan")
                }
                counted(i) {
                    $0.state = .finished
                    $0.result = HostResult(outcome: .skippedAfterHalt, message: reason)
                }
            }
        case .gateWaiting(let stage, _):
            waitingAt = stage
        case .gate(let stage, _, let decision, let detail):
            gates[stage] = decision
            waitingAt = nil
            actions.append(RunAction(kind: .gate, at: entry.time, stage: stage, decision: decision, detail: detail))
        case .halted(let reason):
            haltReason = reason
            actions.append(RunAction(kind: .halted, at: entry.time, detail: reason))
        case .hookRan(let hook):
            actions.append(RunAction(kind: .hook, at: entry.time, stage: hook.stage, detail: hook.summary, hook: hook))
        case .notified(let n):
            actions.append(RunAction(kind: .notification, at: entry.time, detail: n.summary, notification: n))
        case .runFinished(let o):
            outcome = o
            waitingAt = nil
            finishedAt = entry.time
        case .stageStarted, .batchStarted, .draining, .aborting, .note:
            break
        }
    }

    public func host(_ name: String) -> HostRecord? { index[name].map { hosts[$0] } }

    /// Changes one host's part by hand (tests craft records this way), keeping
    /// `statusCounts` true.
    public mutating func update(_ name: String, _ change: (inout HostRecord) -> Void) {
        guard let i = index[name] else { return }
        counted(i, change)
    }

    /// Changes host `i`'s state or result, keeping `statusCounts` true.
    private mutating func counted(_ i: Int, _ change: (inout HostRecord) -> Void) {
        let before = HostStatus(hosts[i])
        change(&hosts[i])
        statusCounts.move(from: before, to: HostStatus(hosts[i]))
    }

}

public struct RunRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One thing done to a run, for the record of who did what (`RunRecord.actions`).
public struct RunAction: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// The run began (`by`: who started it).
        case started
        /// A manual, soak or open gate was passed or not (`detail`: who approved and why).
        case gate
        /// `fleetup resume` went on with it (`by`: who, from which machine).
        case resumed
        /// The failure policy (or a disk or an operator) stopped it (`detail`: why).
        case halted
        /// A playbook hook ran (`hook`: how; `detail`: its one-line summary).
        case hook
        /// A webhook was posted to, or given up (`notification`: how; `detail`: its summary).
        case notification
    }

    public var kind: Kind
    public var at: WallTime
    /// `user@machine`, where the journal says who.
    public var by: String?
    /// The gate's stage and decision.
    public var stage: String?
    public var decision: GateDecision?
    public var detail: String?
    public var hook: HookRecord?
    public var notification: NotifyRecord?

    public init(
        kind: Kind, at: WallTime, by: String? = nil, stage: String? = nil, decision: GateDecision? = nil, detail: String? = nil,
        hook: HookRecord? = nil, notification: NotifyRecord? = nil
    ) {
        (self.kind, self.at, self.by, self.stage, self.decision, self.detail) = (kind, at, by, stage, decision, detail)
        self.hook = hook
        self.notification = notification
    }
}
