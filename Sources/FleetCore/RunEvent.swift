/// How one host's part of a run ended (design.md §6).
public enum HostOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// On the target and healthy.
    case upgraded
    /// Was on the target already: nothing ran.
    case alreadyCurrent = "already-current"
    /// A step failed, timed out, or health failed; no rollback ran (past the point of no
    /// return, none in the playbook, `--no-rollback`, or the rollback itself failed).
    case failed
    /// Failed before the point of no return; the rollback steps ran and passed.
    case rolledBack = "rolled-back"
    /// Never started: the run halted first.
    case skippedAfterHalt = "skipped-after-halt"
    /// Could not be reached or logged into.
    case unreachable
    /// Stopped before its end: its commands ended by a second Ctrl-C, or a run that stopped
    /// for a full disk; resume goes on from its last step.
    case interrupted

    /// Failed, rolled back and unreachable hosts count against the failure policy (§5.2).
    public var countsAsFailure: Bool {
        switch self {
        case .failed, .rolledBack, .unreachable: return true
        case .upgraded, .alreadyCurrent, .skippedAfterHalt, .interrupted: return false
        }
    }

    /// Done for good: resume does not touch such a host again (failed ones only with
    /// `--retry-failed`).
    public var isSuccess: Bool { self == .upgraded || self == .alreadyCurrent }
}

/// How a whole run ended.
public enum RunOutcome: String, Sendable, Hashable, Codable {
    /// Every host upgraded or already current.
    case succeeded
    /// Every stage ran, but some hosts failed within what the policy allows.
    case failed
    /// The failure policy was breached: nothing new started.
    case halted
    /// Ctrl-C or SIGTERM: drained (or aborted); `fleetup resume` goes on.
    case interrupted
    /// Stopped at a manual gate nobody approved; `fleetup resume --approve STAGE` goes on.
    case waitingForApproval = "waiting-for-approval"

    /// 0 only for success (design.md §2).
    public var exitCode: Int32 { self == .succeeded ? 0 : 1 }
}

/// Where a step sits in a host's work.
public enum StepPhase: String, Sendable, Hashable, Codable {
    /// The hop's own steps.
    case upgrade
    /// The rollback steps, after a failure before the point of no return.
    case rollback
}

/// One step about to run (journaled before it starts, so a crash shows what was in flight).
public struct StepRef: Sendable, Hashable, Codable {
    public var phase: StepPhase
    /// The hop, as release texts.
    public var from: String
    public var to: String
    /// 0-based within the hop's steps (or its rollback steps).
    public var index: Int
    public var name: String
    /// As run, secrets redacted.
    public var command: String
    public var release: String?
    /// 1 for the first try; more when `retries:` ran it again.
    public var attempt: Int

    public init(
        phase: StepPhase, from: String, to: String, index: Int, name: String, command: String,
        release: String? = nil, attempt: Int = 1
    ) {
        self.phase = phase
        self.from = from
        self.to = to
        self.index = index
        self.name = name
        self.command = command
        self.release = release
        self.attempt = attempt
    }
}

/// One step as it ran.
public struct StepRecord: Sendable, Hashable, Codable {
    public var step: StepRef
    public var exitStatus: Int32?
    public var signal: String?
    public var timedOut: Bool
    /// The transport's error (`connection-lost: …`), when the step did not finish on its own.
    public var error: String?
    public var durationMs: Int
    /// Tails of the output, secrets redacted.
    public var stdout: String
    public var stderr: String

    public init(
        step: StepRef, exitStatus: Int32? = nil, signal: String? = nil, timedOut: Bool = false,
        error: String? = nil, durationMs: Int = 0, stdout: String = "", stderr: String = ""
    ) {
        self.step = step
        self.exitStatus = exitStatus
        self.signal = signal
        self.timedOut = timedOut
        self.error = error
        self.durationMs = durationMs
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { error == nil && !timedOut && signal == nil && exitStatus == 0 }

    /// `exit 0`, `exit 3`, `timed out`, `killed by KILL`, or the transport's error.
    public var outcomeText: String {
        if timedOut { return "timed out" }
        if let error { return error }
        if let signal { return "killed by \(signal)" }
        if let exitStatus { return "exit \(exitStatus)" }
        return "no exit status"
    }
}

/// One attempt of a probe.
public struct ProbeAttempt: Sendable, Hashable, Codable {
    /// From the health check's start.
    public var atMs: Int
    public var durationMs: Int
    public var passed: Bool
    /// `status 200, 15 bytes: {"status":"OK"}`, `connection refused`, `exit 1: …`, `timed out after 1s`.
    public var detail: String

    public init(atMs: Int, durationMs: Int, passed: Bool, detail: String) {
        self.atMs = atMs
        self.durationMs = durationMs
        self.passed = passed
        self.detail = detail
    }
}

/// One probe's transcript within a health check.
public struct ProbeRecord: Sendable, Hashable, Codable {
    public var target: String
    public var expectation: String
    public var healthy: Bool
    /// `2 consecutive passes`, `3 consecutive failures`, `deadline 60s passed`.
    public var verdict: String
    public var attempts: [ProbeAttempt]
    /// The tail of the probe's `logs:` command, when it failed.
    public var logs: String?

    public init(
        target: String, expectation: String, healthy: Bool, verdict: String,
        attempts: [ProbeAttempt], logs: String? = nil
    ) {
        self.target = target
        self.expectation = expectation
        self.healthy = healthy
        self.verdict = verdict
        self.attempts = attempts
        self.logs = logs
    }
}

/// A host's health check after a hop (or on resume, or after a soak).
public struct HealthRecord: Sendable, Hashable, Codable {
    /// `after 5.1.0 -> 5.2.0`, `re-check on resume`, `soak of staging`.
    public var context: String
    public var healthy: Bool
    public var probes: [ProbeRecord]
    public var durationMs: Int

    public init(context: String, healthy: Bool, probes: [ProbeRecord], durationMs: Int) {
        self.context = context
        self.healthy = healthy
        self.probes = probes
        self.durationMs = durationMs
    }
}

/// How a host ended, with the versions and what an operator needs to act.
public struct HostResult: Sendable, Hashable, Codable {
    public var outcome: HostOutcome
    public var versionBefore: String?
    public var versionAfter: String?
    /// The releases it went through, its starting version first (`5.0.0`, `5.1.0`, …).
    public var path: [String]
    /// Why it failed, in one line.
    public var message: String?
    /// After a failure past the point of no return: which backup to restore.
    public var restore: String?

    public init(
        outcome: HostOutcome, versionBefore: String? = nil, versionAfter: String? = nil,
        path: [String] = [], message: String? = nil, restore: String? = nil
    ) {
        self.outcome = outcome
        self.versionBefore = versionBefore
        self.versionAfter = versionAfter
        self.path = path
        self.message = message
        self.restore = restore
    }
}

/// A stage as the run planned it: batches of host names and their halt thresholds.
public struct StagePlan: Sendable, Hashable, Codable {
    public var name: String
    public var batches: [[String]]
    /// Failed hosts in each batch that halt the run.
    public var haltAt: [Int]

    public init(name: String, batches: [[String]], haltAt: [Int]) {
        self.name = name
        self.batches = batches
        self.haltAt = haltAt
    }

    public init(_ stage: PlannedStage) {
        self.init(name: stage.name, batches: stage.batches.map(\.hosts), haltAt: stage.batches.map(\.haltAt))
    }
}

/// What a run set out to do: the first entry of its journal, enough to resume it.
public struct RunHeader: Sendable, Hashable, Codable {
    public var id: String
    public var user: String
    public var machine: String
    public var fleetupVersion: String
    public var playbook: String
    /// Absolute paths, so `resume` can load them again from anywhere.
    public var playbookFile: String
    public var inventories: [String]
    public var target: String
    public var limit: String?
    /// `--var` names (values may be secret: resume takes them from its own command line).
    public var overrides: [String]
    public var forks: Int
    public var rollback: Bool
    /// The policy as the playbook says it: `batch [1, 25%, 50%], max_fail_percentage 0, …`.
    public var policy: String
    public var pauseMs: Int
    public var gate: String
    public var stages: [StagePlan]
    /// The fleet's lock key (FleetStore's FleetKey, from the plan's hosts); nil in journals
    /// written before it was kept.
    public var fleetKey: String?
    /// The rolling policy the run started under (with `--pause`/`--soak` applied): a resume
    /// goes on under it. nil in journals written before it was kept.
    public var rolling: RolloutPolicy?

    public init(
        id: String, user: String, machine: String, fleetupVersion: String, playbook: String,
        playbookFile: String, inventories: [String], target: String, limit: String? = nil,
        overrides: [String] = [], forks: Int, rollback: Bool = true, policy: String, pauseMs: Int = 0,
        gate: String = "none", stages: [StagePlan], fleetKey: String? = nil, rolling: RolloutPolicy? = nil
    ) {
        self.id = id
        self.user = user
        self.machine = machine
        self.fleetupVersion = fleetupVersion
        self.playbook = playbook
        self.playbookFile = playbookFile
        self.inventories = inventories
        self.target = target
        self.limit = limit
        self.overrides = overrides
        self.forks = forks
        self.rollback = rollback
        self.policy = policy
        self.pauseMs = pauseMs
        self.gate = gate
        self.stages = stages
        self.fleetKey = fleetKey
        self.rolling = rolling
    }

    /// Every host of the plan, in stage, batch and batch order.
    public var hosts: [String] { stages.flatMap { $0.batches.flatMap { $0 } } }
}

/// What happened at a gate between two stages.
public enum GateDecision: String, Sendable, Hashable, Codable {
    /// `gate: none`.
    case open
    /// Approved on the terminal, by `--approve STAGE` or `--yes`.
    case approved
    /// Nobody approved (not interactive, no `--approve`): the run waits.
    case notApproved = "not-approved"
    /// Declined at the prompt.
    case declined
    /// `soak`: waited, and every host of the stage was still healthy.
    case soaked
    /// `soak`: a host was unhealthy after the soak: the run halts.
    case soakFailed = "soak-failed"
}

/// One change of a run's state, as the journal stores it (one JSON object per line).
/// The coordinator appends each one and it is on disk before the next action starts.
/// `indirect`: a value is one reference, not its widest case (345 bytes inline), which
/// every suspended host task kept one of per `emit` in its async frame (docs/performance.md).
public indirect enum RunEvent: Sendable, Hashable, Codable {
    case runStarted(RunHeader)
    /// `fleetup resume` took the run up again.
    case resumed(user: String, machine: String, retryFailed: Bool)
    case stageStarted(stage: String)
    case batchStarted(stage: String, batch: Int, hosts: [String])
    /// `recheck`: a resume takes the host up again. `resumeAt` says where it goes on when it
    /// continues the hop its journal left it in (`5.2.0 -> 5.3.0 at step 7 "start"`); nil
    /// when it starts afresh from the version it reports (docs/runs.md, "Resume by steps").
    case hostStarted(host: String, recheck: Bool, resumeAt: String? = nil)
    case versionRead(host: String, version: String?, problem: String?)
    case hopStarted(host: String, from: String, to: String)
    case stepStarted(host: String, step: StepRef)
    case stepFinished(host: String, record: StepRecord)
    case healthChecked(host: String, record: HealthRecord)
    case hostFinished(host: String, result: HostResult)
    /// Hosts that will not start in this run, and why (a halt).
    case hostsSkipped(hosts: [String], reason: String)
    case gate(stage: String, next: String, decision: GateDecision, detail: String?)
    /// A manual gate began waiting for an approval from elsewhere (`fleetup approve`): what
    /// `fleetup runs` shows until the gate's decision.
    case gateWaiting(stage: String, next: String)
    case halted(reason: String)
    /// First Ctrl-C: nothing new starts.
    case draining
    /// Second Ctrl-C: commands in flight are ended.
    case aborting
    case runFinished(outcome: RunOutcome)
    /// A playbook hook ran (docs/playbooks.md, "Hooks"): its exit and the end of its output.
    case hookRan(record: HookRecord)
    /// A notification was posted, or given up (docs/playbooks.md, "Notifications").
    case notified(record: NotifyRecord)
    /// Something an operator should know that changes no state: a stale host lock taken
    /// over, a host lock that could not be released.
    case note(host: String?, text: String)

    /// The host it concerns, if one.
    public var host: String? {
        switch self {
        case .hostStarted(let h, _, _), .versionRead(let h, _, _), .hopStarted(let h, _, _), .stepStarted(let h, _),
            .stepFinished(let h, _), .healthChecked(let h, _), .hostFinished(let h, _):
            return h
        case .note(let h, _):
            return h
        default:
            return nil
        }
    }
}

/// A journal line: the event with its order and wall-clock time.
public struct JournalEntry: Sendable, Hashable, Codable {
    /// 1, 2, 3… across the run (a resume goes on counting).
    public var seq: Int
    /// When it was written (ISO 8601 UTC with milliseconds in the journal's text).
    public var time: WallTime
    public var event: RunEvent

    public init(seq: Int, time: WallTime, event: RunEvent) {
        self.seq = seq
        self.time = time
        self.event = event
    }
}

/// Where the coordinator's events go: the journal, the progress display, tests' recorders.
/// `record` takes entries in order (the coordinator calls it under its lock, so it must be
/// quick); `flush(through:)` returns once entry `seq` is durable — the coordinator awaits
/// it before the next action, so a crash loses nothing that was done.
public protocol RunEventSink: Sendable {
    func record(_ entry: JournalEntry) throws
    func flush(through seq: Int) async throws
    /// Why the sink is writing into its last reserve (its disk is full), once it is: the
    /// run must stop starting anything new while the hosts in flight finish.
    var degradation: String? { get }
    /// The costly part of recording `event`, done before the coordinator numbers it (out of
    /// its lock, so host tasks encode at once): the journal encodes the event's JSON here.
    func prepare(_ event: RunEvent) -> PreparedEvent?
    /// `record`, given what `prepare` made of the entry's event.
    func record(_ entry: JournalEntry, prepared: PreparedEvent?) throws
}

/// What a sink's `prepare` made of an event (the journal: its JSON text).
public struct PreparedEvent: Sendable {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
}

extension RunEventSink {
    /// Sinks with nothing costly to do ahead record the entry as it is.
    public func prepare(_ event: RunEvent) -> PreparedEvent? { nil }
    public func record(_ entry: JournalEntry, prepared: PreparedEvent?) throws { try record(entry) }
    /// Sinks that hold nothing on disk have nothing to flush.
    public func flush(through seq: Int) async throws {}
    /// Sinks without a reserve never degrade: they work or fail.
    public var degradation: String? { nil }
}

extension RunHeader {
    /// The header of a run of `plan`.
    public init(
        id: String, user: String, machine: String, fleetupVersion: String, plan: RolloutPlan,
        playbookFile: String, inventories: [String], overrides: [String] = [], forks: Int, rollback: Bool = true,
        fleetKey: String? = nil
    ) {
        let p = plan.policy
        var policy = "batch [\(p.batch.map(\.description).joined(separator: ", "))], max_fail_percentage \(p.maxFailPercentage)"
        if let m = p.maxFailures { policy += ", max_failures \(m)" }
        policy += ", order \(p.order.rawValue)"
        self.init(
            id: id, user: user, machine: machine, fleetupVersion: fleetupVersion, playbook: plan.playbook,
            playbookFile: playbookFile, inventories: inventories, target: plan.target, limit: plan.limit,
            overrides: overrides, forks: forks, rollback: rollback, policy: policy,
            pauseMs: Int(p.pause.components.seconds) * 1000 + Int(p.pause.components.attoseconds / 1_000_000_000_000_000),
            gate: p.gate.description, stages: plan.stages.map(StagePlan.init), fleetKey: fleetKey, rolling: p)
    }
}
