import FleetCore

/// The rolling run's decisions, stage by stage and batch by batch (design.md §5.1, §5.2,
/// §5.4), as a pure state machine: the coordinator feeds it events and performs the actions
/// it returns, in order. No clock, no I/O, so every rule is tested in microseconds.
///
/// Rules it holds:
/// - stages in order; each stage's batches in order; within a batch at most `forks` hosts
///   in flight, started in batch order;
/// - every time a host finishes, the failure policy is checked (unreachable counts as
///   failed); once it is breached nothing new starts, not even the rest of the batch: the
///   hosts in flight finish (their upgrade and health check), every host not started is
///   skipped after the halt, and the run ends `halted`;
/// - `pause` between two batches of a stage; a gate between two stages;
/// - `before_run` / `before_stage` hooks (when the playbook has some) are asked before the
///   run and before each stage starts anything; one that fails halts the run there, every
///   host not started skipped (nothing changed on any host of that stage);
/// - drain (first Ctrl-C): nothing new starts; the run ends `interrupted` once the hosts in
///   flight are done; hosts not started stay pending (resume runs them). Abort (second
///   Ctrl-C) also ends the commands in flight (those hosts come back `interrupted`).
public struct RolloutMachine: Sendable {
    public enum Event: Sendable, Hashable {
        case start
        /// A host's work ended.
        case hostFinished(host: String, outcome: HostOutcome)
        /// The pause between two batches is over.
        case pauseOver
        /// The manual gate after the current stage decided (`detail` says why, for the record).
        case gateDecided(GateDecision, detail: String?)
        /// The soak after the current stage waited and checked these hosts' health.
        case soakChecked(unhealthy: [String], checked: Int)
        /// First Ctrl-C / SIGTERM.
        case drain
        /// Second Ctrl-C / SIGTERM.
        case abort
        /// The `before_*` hooks asked for by `check` ran: all passed, or why not.
        case checked(passed: Bool, reason: String?)
    }

    public enum Action: Sendable, Hashable {
        /// Run the `before_run` hooks (stage nil) or the `before_stage` hooks of `stage`,
        /// then send `checked`.
        case check(point: HookPoint, stage: String?)
        /// Every host of a batch finished and the run goes on: the `after_batch` hooks run.
        case batchFinished(stage: String, batch: Int, hosts: [String])
        case startStage(stage: String)
        case startBatch(stage: String, batch: Int, hosts: [String])
        /// `resume`: the host is taken up again (its `Work.resume` says how).
        case startHost(host: String, resume: Bool)
        /// Wait, then send `pauseOver`.
        case pause(Duration)
        /// Ask whether the manual gate after `stage` opens, then send `gateDecided`.
        case askApproval(stage: String, next: String)
        /// Wait `duration`, then check the health of `hosts` (the stage's hosts that ended
        /// upgraded or already current), then send `soakChecked`.
        case soak(stage: String, duration: Duration, hosts: [String])
        /// Record the gate's decision.
        case gatePassed(stage: String, next: String, decision: GateDecision, detail: String?)
        case skip(hosts: [String], reason: String)
        case halt(reason: String)
        /// Stop what waits (a pause, a gate's prompt or soak): the run is ending.
        case cancelWaits
        /// End the commands in flight (their hosts finish `interrupted`).
        case cancelInFlight
        case finish(RunOutcome)
    }

    /// What a host has to do in this run.
    public enum Work: Sendable, Hashable {
        case run
        /// Taken up again by a resume (from its journal position, or replanned): it goes
        /// first in its batch, so a half-upgraded host is looked at before anything else.
        case resume(HostStart)
        /// Nothing (done in an earlier part of the run, or failed and not retried).
        case none

        var isResume: Bool {
            if case .resume = self { return true }
            return false
        }
    }

    /// Where the run is.
    public enum Phase: Sendable, Hashable {
        case notStarted
        /// Hosts of the current batch start and finish.
        case inBatch
        /// Between two batches of a stage.
        case pausing
        /// Between two stages, waiting for the gate.
        case atGate
        /// Waiting for `before_run` / `before_stage` hooks.
        case checking
        /// The run's end is decided; the hosts in flight are finishing.
        case ending(RunOutcome)
        case finished(RunOutcome)
    }

    public let stages: [StagePlan]
    public let policy: FailurePolicy
    public let pause: Duration
    public let gate: StageGate
    public let forks: Int

    public private(set) var phase: Phase = .notStarted
    public private(set) var inFlight: Set<String> = []
    public private(set) var failedTotal = 0
    public private(set) var haltReason: String?
    public private(set) var draining = false

    private var work: [String: Work]
    /// Hosts that ended upgraded or already current, in this part of the run or before:
    /// the ones a soak checks again.
    private var succeeded: Set<String>
    /// The playbook has health probes (a soak without them has nothing to check).
    private let hasProbes: Bool
    /// Stages whose gate (after them) was passed before (resume).
    private var gatesPassed: Set<String>
    private var stage = 0
    private var batch = -1
    /// A slice: a host leaves its front without moving the rest (`removeFirst` on an array
    /// moved the whole batch for every host started).
    private var queue: ArraySlice<String> = []
    private var failedInBatch = 0
    private var anyFailed: Bool
    /// The playbook has `before_run` / `before_stage` hooks.
    private let checksRun: Bool
    private let checksStages: Bool
    /// The playbook has `after_batch` hooks: `batchFinished` is said.
    private let announcesBatches: Bool
    private var runChecked = false
    private var checkedStages = Set<String>()
    /// What the hooks being waited for guard: the run (nil) or the stage at `pendingBatch`.
    private var pendingCheck: HookPoint?
    private var pendingBatch = 0

    /// `work`: per host; hosts it does not name run. `gatesPassed`: stages whose gate an
    /// earlier part of the run passed. `failedBefore`: hosts an earlier part left failed
    /// (not retried): the run cannot succeed, but a resume counts its failures afresh.
    /// `succeeded`: hosts an earlier part left upgraded or already current.
    public init(
        stages: [StagePlan], policy: FailurePolicy, pause: Duration = .zero, gate: StageGate = .none,
        forks: Int, work: [String: Work] = [:], gatesPassed: Set<String> = [], failedBefore: Int = 0,
        succeeded: Set<String> = [], hasProbes: Bool = true, checksRun: Bool = false, checksStages: Bool = false,
        announcesBatches: Bool = false
    ) {
        self.announcesBatches = announcesBatches
        self.checksRun = checksRun
        self.checksStages = checksStages
        anyFailed = failedBefore > 0
        self.succeeded = succeeded
        self.hasProbes = hasProbes
        self.stages = stages
        self.policy = policy
        self.pause = pause
        self.gate = gate
        self.forks = max(1, forks)
        self.work = work
        self.gatesPassed = gatesPassed
    }

    /// The actions for one event, to perform in order.
    public mutating func handle(_ event: Event) throws(MachineError) -> [Action] {
        if case .finished = phase {
            // A signal may race the end: nothing is left to drain or abort.
            if event == .drain || event == .abort { return [] }
            throw MachineError("\(event) after the run finished")
        }
        switch event {
        case .start:
            guard phase == .notStarted else { throw MachineError("start twice") }
            if checksRun {
                phase = .checking
                pendingCheck = .beforeRun
                return [.check(point: .beforeRun, stage: nil)]
            }
            return enter(stage: 0, batch: 0, firstStage: true)

        case .checked(let passed, let reason):
            guard phase == .checking, let point = pendingCheck else { throw MachineError("checked while \(phase)") }
            pendingCheck = nil
            if !passed {
                // Nothing of what the hook guards has started: every host with work is skipped.
                if point == .beforeRun { stage = 0 }
                batch = point == .beforeRun ? -1 : pendingBatch - 1
                let actions = halt(reason ?? "a \(point.rawValue) hook failed")
                return actions + finish(.halted)
            }
            if point == .beforeRun {
                runChecked = true
                return enter(stage: 0, batch: 0, firstStage: true)
            }
            checkedStages.insert(stages[stage].name)
            return enter(stage: stage, batch: pendingBatch, firstStage: true)

        case .hostFinished(let host, let outcome):
            guard inFlight.remove(host) != nil else { throw MachineError("\(host) finished but was not in flight") }
            if outcome.isSuccess { succeeded.insert(host) }
            var actions: [Action] = []
            if outcome.countsAsFailure {
                failedInBatch += 1
                failedTotal += 1
                anyFailed = true
                if haltReason == nil,
                    let reason = policy.haltReason(failedInBatch: failedInBatch, batchSize: currentBatchSize, failedTotal: failedTotal)
                {
                    actions += halt(reason.description)
                }
            }
            return actions + afterProgress()

        case .pauseOver:
            guard phase == .pausing else { throw MachineError("pause over while \(phase)") }
            return enter(stage: stage, batch: batch + 1, firstStage: false)

        case .soakChecked(let unhealthy, let checked):
            guard phase == .atGate, case .soak(let d) = gate else { throw MachineError("soak checked while \(phase)") }
            let name = stages[stage].name
            if unhealthy.isEmpty {
                let what =
                    hasProbes
                    ? "every host of \(name) was still healthy after a soak of \(DurationText.format(d)) (\(checked) checked)"
                    : "waited \(DurationText.format(d)) after \(name); the playbook has no health probes to check again"
                return try handle(.gateDecided(.soaked, detail: what))
            }
            return try handle(
                .gateDecided(
                    .soakFailed,
                    detail: "after a soak of \(DurationText.format(d)), unhealthy in \(name): \(unhealthy.joined(separator: ", "))"))

        case .gateDecided(let decision, let detail):
            guard phase == .atGate else { throw MachineError("gate decided while \(phase)") }
            let next = stages[stage + 1].name
            var actions: [Action] = [.gatePassed(stage: stages[stage].name, next: next, decision: decision, detail: detail)]
            switch decision {
            case .open, .approved, .soaked:
                gatesPassed.insert(stages[stage].name)
                return actions + enter(stage: stage + 1, batch: 0, firstStage: true)
            case .notApproved:
                return actions + finish(.waitingForApproval)
            case .declined, .soakFailed:
                actions += halt(detail ?? "the gate after \(stages[stage].name) did not pass")
                return actions + finish(.halted)
            }

        case .drain, .abort:
            var actions: [Action] = []
            if !draining {
                draining = true
            }
            if event == .abort && !inFlight.isEmpty { actions.append(.cancelInFlight) }
            switch phase {
            case .pausing, .atGate, .checking:
                return actions + [.cancelWaits] + finish(.interrupted)
            case .inBatch:
                if inFlight.isEmpty { return actions + finish(.interrupted) }
                phase = .ending(haltReason == nil ? .interrupted : .halted)
                return actions
            case .ending, .notStarted, .finished:
                if phase == .notStarted { return finish(.interrupted) }
                return actions
            }
        }
    }

    /// The size the failure policy divides by: the current batch as planned.
    private var currentBatchSize: Int {
        guard stage < stages.count, batch >= 0, batch < stages[stage].batches.count else { return 1 }
        return stages[stage].batches[batch].count
    }

    private func work(of host: String) -> Work { work[host] ?? .run }

    /// How a host taken up again by this resume begins (`.fresh` for the others).
    public func start(of host: String) -> HostStart {
        if case .resume(let start) = work(of: host) { return start }
        return .fresh
    }

    private func hasWork(stage s: Int, batch b: Int) -> Bool {
        stages[s].batches[b].contains { work(of: $0) != .none }
    }

    /// Starts the first batch with work from (s, b) on; gates before a new stage.
    private mutating func enter(stage s: Int, batch b: Int, firstStage: Bool) -> [Action] {
        var s = s, b = b
        var actions: [Action] = []
        var newStage = firstStage
        while s < stages.count {
            if b < stages[s].batches.count {
                if hasWork(stage: s, batch: b) { break }
                b += 1
                continue
            }
            // Stage s is done: the gate before the next one.
            guard s + 1 < stages.count else { s += 1; break }
            if gate != .none && !gatesPassed.contains(stages[s].name) && stageHasWork(s + 1) {
                stage = s
                phase = .atGate
                return actions + [gateAction(after: s)]
            }
            if gate == .none && stageHasWork(s + 1) && !gatesPassed.contains(stages[s].name) {
                gatesPassed.insert(stages[s].name)
                actions.append(.gatePassed(stage: stages[s].name, next: stages[s + 1].name, decision: .open, detail: nil))
            }
            s += 1
            b = 0
            newStage = true
        }
        guard s < stages.count else { return actions + finish(anyFailed ? .failed : .succeeded) }
        if newStage && checksStages && !checkedStages.contains(stages[s].name) {
            // The stage's before_stage hooks first; `checked` comes back here.
            stage = s
            batch = b - 1
            pendingBatch = b
            pendingCheck = .beforeStage
            phase = .checking
            return actions + [.check(point: .beforeStage, stage: stages[s].name)]
        }
        stage = s
        batch = b
        failedInBatch = 0
        let hosts = stages[s].batches[b].filter { work(of: $0) != .none }
        // Re-checks go first: a half-upgraded host is looked at before anything else starts.
        queue = ArraySlice(hosts.filter { work(of: $0).isResume } + hosts.filter { !work(of: $0).isResume })
        phase = .inBatch
        if newStage { actions.append(.startStage(stage: stages[s].name)) }
        actions.append(.startBatch(stage: stages[s].name, batch: b + 1, hosts: stages[s].batches[b]))
        return actions + fill()
    }

    /// What passing the gate after stage `s` takes: someone's approval, or a soak of the
    /// stage's hosts that ended well (in plan order; none when the playbook has no probes).
    private func gateAction(after s: Int) -> Action {
        guard case .soak(let d) = gate else { return .askApproval(stage: stages[s].name, next: stages[s + 1].name) }
        let hosts = hasProbes ? stages[s].batches.flatMap { $0 }.filter(succeeded.contains) : []
        return .soak(stage: stages[s].name, duration: d, hosts: hosts)
    }

    private func stageHasWork(_ s: Int) -> Bool {
        stages[s].batches.indices.contains { hasWork(stage: s, batch: $0) }
    }

    /// Starts hosts of the batch while there is room.
    private mutating func fill() -> [Action] {
        var actions: [Action] = []
        while haltReason == nil && !draining && inFlight.count < forks && !queue.isEmpty {
            let host = queue.removeFirst()
            inFlight.insert(host)
            actions.append(.startHost(host: host, resume: work(of: host).isResume))
        }
        return actions
    }

    /// After a host finished: start more, end the batch, the stage or the run.
    private mutating func afterProgress() -> [Action] {
        if case .ending(let outcome) = phase {
            return inFlight.isEmpty ? finish(outcome) : []
        }
        if haltReason != nil {
            phase = .ending(.halted)
            return inFlight.isEmpty ? finish(.halted) : []
        }
        let started = fill()
        if !started.isEmpty || !inFlight.isEmpty || !queue.isEmpty { return started }
        // The batch is done.
        let done: [Action] =
            announcesBatches ? [.batchFinished(stage: stages[stage].name, batch: batch + 1, hosts: stages[stage].batches[batch])] : []
        let more = (batch + 1..<stages[stage].batches.count).contains { hasWork(stage: stage, batch: $0) }
        if more && pause > .zero {
            phase = .pausing
            return done + [.pause(pause)]
        }
        return done + enter(stage: stage, batch: batch + 1, firstStage: false)
    }

    /// Breaches the policy: nothing new starts; every host not started is skipped.
    private mutating func halt(_ reason: String) -> [Action] {
        haltReason = reason
        var skipped = Array(queue)
        queue = []
        for s in stage..<stages.count {
            for b in stages[s].batches.indices where s > stage || b > batch {
                skipped += stages[s].batches[b].filter { work(of: $0) != .none }
            }
        }
        var actions: [Action] = [.halt(reason: reason)]
        if !skipped.isEmpty { actions.append(.skip(hosts: skipped, reason: "the run halted: \(reason)")) }
        return actions
    }

    private mutating func finish(_ outcome: RunOutcome) -> [Action] {
        phase = .finished(outcome)
        return [.finish(outcome)]
    }
}

/// An event the machine cannot take in its state: a bug in the coordinator.
public struct MachineError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "rollout state machine: \(message)" }
}
