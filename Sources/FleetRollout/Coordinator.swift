import FleetCore
import Synchronization

/// The only place a run's decisions are carried out: it feeds the rollout machine (stages,
/// batches, halts, gates) and one host machine per host in flight, performs their actions
/// through the `RemoteExecutor` with time from the injected clock, and appends every state
/// change to the sink (the journal) before the next action starts.
public final class Coordinator<C: Clock>: Sendable where C.Duration == Duration {
    public let setup: RunSetup
    public let executor: any RemoteExecutor
    public let clock: C
    public let sink: any RunEventSink
    public let display: (any RunDisplay)?
    public let gateKeeper: any GateKeeper
    /// Wall-clock time for the journal: `startedAt`, moved on by the injected clock (so a
    /// manual clock gives tests exact times too).
    public let startedAt: WallTime
    private let clockStart: C.Instant

    struct State {
        var seq: Int
        var events: AsyncStream<RolloutMachine.Event>.Continuation?
        var interrupts = 0
        /// The journal's fold, kept live: every entry the sink took is applied to it.
        var record: RunRecord
        /// The journal cannot be written: nothing may start that it would not hold.
        var sinkError: String?
        /// The journal writes into its reserve (its disk is full): the run is stopping.
        var stopping: String?
        /// Hosts in flight when the journal broke, and the last thing each did.
        var stoppedHosts: [String] = []
    }

    let state: Mutex<State>
    /// Notifications being posted: they never hold the run up, and the run waits for them
    /// (each bounded by its deadline) only before its last journal line.
    let notifications = Mutex<[Task<Void, Never>]>([])
    /// Set with `State.sinkError` / `State.stopping` (under the lock): what every host task
    /// checks before each action, read without waiting behind the journal's lock (those
    /// reads were 20 % of a 5,000-host run's CPU, spent in the lock).
    let sinkFailed = Atomic<Bool>(false)
    let stopRequested = Atomic<Bool>(false)

    /// `lastSeq`: the journal's last sequence number (0 for a new run).
    public init(
        setup: RunSetup, executor: any RemoteExecutor, clock: C, sink: any RunEventSink,
        display: (any RunDisplay)? = nil, gateKeeper: any GateKeeper = FixedGateKeeper(approved: []),
        lastSeq: Int = 0, startedAt: WallTime
    ) {
        self.setup = setup
        self.executor = executor
        self.clock = clock
        self.sink = sink
        self.display = display
        self.gateKeeper = gateKeeper
        self.startedAt = startedAt
        clockStart = clock.now
        // Every host pending until `run` says otherwise (a resume gives the record so far).
        // A header entry always folds: it is the run's own.
        let record = try! RunRecord(header: JournalEntry(seq: lastSeq, time: startedAt, event: .runStarted(setup.header)))
        state = Mutex(State(seq: lastSeq, record: record))
    }

    /// The wall-clock time now, by the injected clock.
    var now: WallTime { startedAt + clockStart.duration(to: clock.now) }

    /// The run's record as the journal holds it so far (the same fold `fleetup report` makes).
    public var record: RunRecord { state.withLock { $0.record } }

    /// First call: drain (nothing new starts); second: end the commands in flight.
    public func interrupt() {
        let (n, events) = state.withLock { s -> (Int, AsyncStream<RolloutMachine.Event>.Continuation?) in
            s.interrupts += 1
            return (s.interrupts, s.events)
        }
        // From a signal handler's thread: recorded in order, made durable with the next
        // action's flush.
        if n == 1 {
            _ = enqueue(.draining)
            events?.yield(.drain)
        } else if n == 2 {
            _ = enqueue(.aborting)
            events?.yield(.abort)
        }
    }

    /// The journal's last sequence number so far.
    public var lastSeq: Int { state.withLock { $0.seq } }

    /// Runs to the end. `opening` (`runStarted` or `resumed`) is recorded first; `record`
    /// (the journal folded so far), `work` and `gatesPassed` come from the journal on
    /// resume. A journal that writes into its reserve
    /// (a full disk) stops the run as a drain does; one that cannot be written at all stops
    /// every host after the step it is in, and `run` throws `RunJournalError` naming them.
    public func run(
        opening: RunEvent, record: RunRecord? = nil, work: [String: RolloutMachine.Work] = [:],
        gatesPassed: Set<String> = [], failedBefore: Int = 0
    ) async throws -> RunOutcome {
        if case .resumed = opening {
            // A resume goes on from the record so far: without it, hosts done earlier would
            // look pending to the soak gate and the summary.
            guard let record else { throw RunJournalError(message: "a resume needs the run's record so far") }
            state.withLock { $0.record = record }
        }
        let h = setup.header
        let succeeded = Set(state.withLock { $0.record.hosts.filter { $0.outcome?.isSuccess == true }.map(\.host) })
        var machine = RolloutMachine(
            stages: h.stages, policy: FailurePolicy(setup.playbook.rolling),
            pause: setup.playbook.rolling.pause, gate: setup.playbook.rolling.gate,
            forks: h.forks, work: work, gatesPassed: gatesPassed, failedBefore: failedBefore,
            succeeded: succeeded, hasProbes: !setup.playbook.health.isEmpty,
            checksRun: hasHooks(.beforeRun), checksStages: hasHooks(.beforeStage), announcesBatches: hasHooks(.afterBatch))
        await emit(opening)
        if let e = sinkError { throw RunJournalError(message: e) }
        let (events, continuation) = AsyncStream.makeStream(of: RolloutMachine.Event.self)
        let pendingInterrupts = state.withLock { s -> Int in
            s.events = continuation
            return s.interrupts
        }
        continuation.yield(.start)
        if pendingInterrupts >= 1 { continuation.yield(.drain) }
        var outcome = RunOutcome.interrupted
        var failure: String?
        // Discarding: a host's task is freed when it ends. A plain task group keeps every
        // finished child (and its task allocator's memory, ~20 KB) until the group ends: 5,000
        // hosts held ~110 MB of finished tasks at the end of the run.
        await withDiscardingTaskGroup { group in
            var waits: [Task<Void, Never>] = []
            loop: for await event in events {
                let actions: [RolloutMachine.Action]
                do {
                    actions = try machine.handle(event)
                } catch {
                    failure = "\(error)"
                    group.cancelAll()
                    break loop
                }
                for action in actions {
                    switch action {
                    case .check(let point, let stage):
                        waits.append(
                            Task {
                                let (passed, reason) = await self.runHooks(point, self.context(point, stage: stage))
                                if !Task.isCancelled { continuation.yield(.checked(passed: passed, reason: reason)) }
                            })
                    case .batchFinished(let stage, let batch, let hosts):
                        _ = await runHooks(.afterBatch, context(.afterBatch, stage: stage, batch: batch, hosts: hosts))
                    case .startStage(let stage):
                        await emit(.stageStarted(stage: stage))
                    case .startBatch(let stage, let batch, let hosts):
                        await emit(.batchStarted(stage: stage, batch: batch, hosts: hosts))
                    case .startHost(let host, let resume):
                        let start = resume ? machine.start(of: host) : .fresh
                        group.addTask {
                            let o = await self.runHost(host, start: start)
                            continuation.yield(.hostFinished(host: host, outcome: o))
                        }
                    case .pause(let d):
                        waits.append(
                            Task {
                                do { try await self.clock.sleep(for: d) } catch { return }
                                continuation.yield(.pauseOver)
                            })
                    case .askApproval(let stage, let next):
                        _ = await runHooks(.onGate, context(.onGate, stage: stage, next: next, reason: "manual"))
                        waits.append(
                            Task {
                                let (decision, detail) = await self.gateKeeper.approve(stage: stage, next: next) {
                                    await self.emit(.gateWaiting(stage: stage, next: next))
                                }
                                if !Task.isCancelled { continuation.yield(.gateDecided(decision, detail: detail)) }
                            })
                    case .soak(let stage, let duration, let hosts):
                        _ = await runHooks(.onGate, context(.onGate, stage: stage, hosts: hosts, reason: "soak"))
                        waits.append(
                            Task {
                                do { try await self.clock.sleep(for: duration) } catch { return }
                                let unhealthy = await self.soakCheck(
                                    hosts, context: "soak of \(stage) for \(DurationText.format(duration))")
                                if !Task.isCancelled { continuation.yield(.soakChecked(unhealthy: unhealthy, checked: hosts.count)) }
                            })
                    case .gatePassed(let stage, let next, let decision, let detail):
                        await emit(.gate(stage: stage, next: next, decision: decision, detail: detail))
                    case .skip(let hosts, let reason):
                        await emit(.hostsSkipped(hosts: hosts, reason: reason))
                    case .halt(let reason):
                        await emit(.halted(reason: reason))
                        _ = await runHooks(.onHalt, context(.onHalt, reason: reason))
                    case .cancelWaits:
                        for w in waits { w.cancel() }
                    case .cancelInFlight:
                        group.cancelAll()
                    case .finish(let o):
                        outcome = o
                        break loop
                    }
                }
            }
            for w in waits { w.cancel() }
        }
        state.withLock { $0.events = nil }
        continuation.finish()
        if let failure { throw RunJournalError(message: failure) }
        _ = await runHooks(.afterRun, context(.afterRun, outcome: outcome, reason: self.record.statusCounts.text))
        await finishNotifications()
        await emit(.runFinished(outcome: outcome))
        if let e = sinkError { throw RunJournalError(message: journalFailureMessage(e)) }
        return outcome
    }

    // MARK: hooks

    /// The playbook has hooks or notifications on `point` (the machine says when it comes).
    private func hasHooks(_ point: HookPoint) -> Bool {
        !(setup.playbook.hooks[point] ?? []).isEmpty || (setup.notifier != nil && setup.playbook.notify.contains { $0.on.contains(point) })
    }

    func context(
        _ point: HookPoint, stage: String? = nil, batch: Int? = nil, hosts: [String] = [], next: String? = nil,
        outcome: RunOutcome? = nil, reason: String? = nil
    ) -> HookContext {
        let h = setup.header
        var hosts = hosts
        if hosts.isEmpty && point == .beforeRun { hosts = h.hosts }
        if hosts.isEmpty && point == .beforeStage, let s = h.stages.first(where: { $0.name == stage }) { hosts = s.batches.flatMap { $0 } }
        return HookContext(
            point: point, runID: h.id, playbook: h.playbook, target: h.target, stage: stage, batch: batch, hosts: hosts, next: next,
            outcome: outcome, reason: reason)
    }

    /// Runs the hooks of `point` in order, each recorded in the journal; a failing `before_*`
    /// hook ends them (the run stops there: the reason says which and how). The point's
    /// notifications start first, in the background.
    func runHooks(_ point: HookPoint, _ context: HookContext) async -> (passed: Bool, reason: String?) {
        notify(point, context)
        guard let specs = setup.playbook.hooks[point], !specs.isEmpty else { return (true, nil) }
        guard let runner = setup.hookRunner else {
            let record = HookRecord(point: point, name: specs[0].name, stage: context.stage, error: "this run has no hook runner")
            await emit(.hookRan(record: record))
            return (!point.blocks, record.summary)
        }
        for spec in specs {
            if Task.isCancelled { return (false, "interrupted") }
            let record = await runner.run(spec, context: context)
            await emit(.hookRan(record: record))
            if point.blocks && !record.passed { return (false, record.summary) }
        }
        return (true, nil)
    }

    /// Starts posting the notifications that listen to `point` (never awaited here).
    func notify(_ point: HookPoint, _ context: HookContext) {
        guard let notifier = setup.notifier else { return }
        for spec in setup.playbook.notify where spec.on.contains(point) {
            let task = Task {
                if let record = await notifier.send(spec, context: context) { await self.emit(.notified(record: record)) }
            }
            notifications.withLock { $0.append(task) }
        }
    }

    /// Waits for the notifications still being posted (each ends by its deadline).
    func finishNotifications() async {
        while let next = notifications.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { await next.value }
    }

    // MARK: gates

    /// Checks the health of each host a soak names (`--forks` at a time), journals each
    /// check, and returns the hosts found unhealthy, in plan order.
    private func soakCheck(_ names: [String], context: String) async -> [String] {
        let hosts = names.compactMap { setup.hosts[$0] }
        let checked = await FanOut.map(hosts, forks: setup.header.forks) { host -> (String, Bool) in
            let record: HealthRecord
            switch self.probes(for: host) {
            case .success(let probes):
                record = await self.checker(for: host).check(probes, on: host, context: context)
            case .failure(let error):
                let probe = ProbeRecord(
                    target: "health", expectation: "the playbook's probes", healthy: false,
                    verdict: "could not be made for this host: \(error.message)", attempts: [])
                record = HealthRecord(context: context, healthy: false, probes: [probe], durationMs: 0)
            }
            await self.emit(.healthChecked(host: host.name, record: record))
            return (host.name, record.healthy)
        }
        return checked.compactMap { $0 }.filter { !$0.1 }.map(\.0)
    }
}
