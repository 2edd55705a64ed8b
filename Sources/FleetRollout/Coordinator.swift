import FleetCore
import Synchronization

/// Decides what a manual gate says (the CLI asks on the terminal, or reads `--approve`).
public protocol GateKeeper: Sendable {
    func approve(stage: String, next: String) async -> (GateDecision, String?)
}

/// Approves every gate (`--yes`) or none.
public struct FixedGateKeeper: GateKeeper {
    public let approved: Set<String>?
    /// nil: every stage is approved.
    public init(approved: Set<String>?) { self.approved = approved }
    public func approve(stage: String, next: String) async -> (GateDecision, String?) {
        if approved == nil || approved!.contains(stage) { return (.approved, "approved on the command line") }
        return (.notApproved, "the gate after \(stage) is manual: resume with --approve \(stage) (or --yes) to start \(next)")
    }
}

/// What a run works on: the playbook, its hosts, the target, and how to reach them.
public struct RunSetup: Sendable {
    public var playbook: Playbook
    /// Every host of the plan, by inventory name.
    public var hosts: [String: Host]
    public var target: Version
    public var overrides: [String: VarValue]
    public var header: RunHeader
    /// How a `become: true` step runs on a host (user, password).
    public var become: @Sendable (Host) -> Become
    /// Values to redact besides the hosts' secret variables (a become password).
    public var extraSecrets: [String]

    public init(playbook: Playbook, hosts: [Host], target: Version, overrides: [String: VarValue] = [:],
                header: RunHeader, become: @escaping @Sendable (Host) -> Become = { _ in Become() },
                extraSecrets: [String] = []) {
        self.playbook = playbook
        self.hosts = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.target = target
        self.overrides = overrides
        self.header = header
        self.become = become
        self.extraSecrets = extraSecrets
    }
}

/// The only place a run's decisions are carried out: it feeds the rollout machine (stages,
/// batches, halts, gates) and one host machine per host in flight, performs their actions
/// through the `RemoteExecutor` with time from the injected clock, and appends every state
/// change to the sink (the journal) before the next action starts.
public final class Coordinator<C: Clock>: Sendable where C.Duration == Duration {
    public let setup: RunSetup
    public let executor: any RemoteExecutor
    public let clock: C
    public let sink: any RunEventSink
    public let gateKeeper: any GateKeeper
    /// Wall-clock time for the journal (ISO 8601).
    public let now: @Sendable () -> String

    private struct State {
        var seq: Int
        var events: AsyncStream<RolloutMachine.Event>.Continuation?
        var interrupts = 0
        var outcomes: [String: HostOutcome] = [:]
        var sinkError: String?
    }

    private let state: Mutex<State>
    private let placement: [String: (stage: String, batch: Int)]

    /// `lastSeq`: the journal's last sequence number (0 for a new run).
    public init(setup: RunSetup, executor: any RemoteExecutor, clock: C, sink: any RunEventSink,
                gateKeeper: any GateKeeper = FixedGateKeeper(approved: []), lastSeq: Int = 0,
                now: @escaping @Sendable () -> String) {
        self.setup = setup
        self.executor = executor
        self.clock = clock
        self.sink = sink
        self.gateKeeper = gateKeeper
        self.now = now
        state = Mutex(State(seq: lastSeq))
        var placement: [String: (String, Int)] = [:]
        for s in setup.header.stages {
            for (b, batch) in s.batches.enumerated() { for h in batch { placement[h] = (s.name, b + 1) } }
        }
        self.placement = placement
    }

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

    /// Runs to the end. `opening` (`runStarted` or `resumed`) is recorded first; `work` and
    /// `gatesPassed` come from the journal on resume. Throws when the journal cannot be
    /// written (the run then stopped as after a second Ctrl-C).
    public func run(opening: RunEvent, work: [String: RolloutMachine.Work] = [:],
                    gatesPassed: Set<String> = [], failedBefore: Int = 0) async throws -> RunOutcome {
        let h = setup.header
        var machine = RolloutMachine(stages: h.stages, policy: FailurePolicy(setup.playbook.rolling),
                                     pause: setup.playbook.rolling.pause, gate: setup.playbook.rolling.gate,
                                     forks: h.forks, work: work, gatesPassed: gatesPassed, failedBefore: failedBefore)
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
        await withTaskGroup(of: Void.self) { group in
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
                    case .startStage(let stage):
                        await emit(.stageStarted(stage: stage))
                    case .startBatch(let stage, let batch, let hosts):
                        await emit(.batchStarted(stage: stage, batch: batch, hosts: hosts))
                    case .startHost(let host, let recheck):
                        group.addTask {
                            let o = await self.runHost(host, recheck: recheck)
                            continuation.yield(.hostFinished(host: host, outcome: o))
                        }
                    case .pause(let d):
                        waits.append(Task {
                            do { try await self.clock.sleep(for: d) } catch { return }
                            continuation.yield(.pauseOver)
                        })
                    case .gate(let stage, let next, let gate):
                        waits.append(Task {
                            let (decision, detail) = await self.pass(gate, after: stage, next: next)
                            if !Task.isCancelled { continuation.yield(.gateDecided(decision, detail: detail)) }
                        })
                    case .gatePassed(let stage, let next, let decision, let detail):
                        await emit(.gate(stage: stage, next: next, decision: decision, detail: detail))
                    case .skip(let hosts, let reason):
                        await emit(.hostsSkipped(hosts: hosts, reason: reason))
                    case .halt(let reason):
                        await emit(.halted(reason: reason))
                    case .cancelWaits:
                        for w in waits { w.cancel() }
                    case .cancelInFlight:
                        group.cancelAll()
                    case .finish(let o):
                        outcome = o
                        break loop
                    }
                }
                // A journal that cannot be written stops the run: nothing may go unrecorded.
                if sinkError != nil && !machine.draining {
                    if let more = try? machine.handle(.abort), more.contains(.cancelInFlight) { group.cancelAll() }
                    if case .finished(let o) = machine.phase { outcome = o; break loop }
                }
            }
            for w in waits { w.cancel() }
        }
        state.withLock { $0.events = nil }
        continuation.finish()
        if let failure { throw RunJournalError(message: failure) }
        await emit(.runFinished(outcome: outcome))
        if let e = sinkError { throw RunJournalError(message: e) }
        return outcome
    }

    private var sinkError: String? { state.withLock { $0.sinkError } }

    /// Appends an event and returns once the sink has it on disk (the next action may
    /// start). The journal's order is the order of `enqueue`: one lock around numbering and
    /// writing; the wait for the disk is outside it, shared by every task waiting at once.
    func emit(_ event: RunEvent) async {
        guard let seq = enqueue(event) else { return }
        do {
            try await sink.flush(through: seq)
        } catch {
            state.withLock { s in if s.sinkError == nil { s.sinkError = "the journal could not be written: \(error)" } }
        }
    }

    /// Numbers and writes an event (not yet durable); nil once the sink has failed.
    private func enqueue(_ event: RunEvent) -> Int? {
        state.withLock { s -> Int? in
            guard s.sinkError == nil else { return nil }
            s.seq += 1
            do {
                try sink.record(JournalEntry(seq: s.seq, time: now(), event: event))
            } catch {
                s.sinkError = "the journal could not be written: \(error)"
                return nil
            }
            if case .hostFinished(let h, let r) = event { s.outcomes[h] = r.outcome }
            return s.seq
        }
    }

    // MARK: gates

    private func pass(_ gate: StageGate, after stage: String, next: String) async -> (GateDecision, String?) {
        switch gate {
        case .none:
            return (.open, nil)
        case .manual:
            return await gateKeeper.approve(stage: stage, next: next)
        case .soak(let d):
            do { try await clock.sleep(for: d) } catch { return (.notApproved, "interrupted during the soak") }
            let names = setup.header.stages.first { $0.name == stage }?.batches.flatMap { $0 } ?? []
            let outcomes = state.withLock { $0.outcomes }
            let hosts = names.filter { outcomes[$0]?.isSuccess == true }.compactMap { setup.hosts[$0] }
            let checked = await FanOut.map(hosts, forks: setup.header.forks) { host -> (String, Bool) in
                let record = await self.checker(for: host).check(self.probes(for: host), on: host,
                                                                  context: "soak of \(stage) for \(DurationText.format(d))")
                await self.emit(.healthChecked(host: host.name, record: record))
                return (host.name, record.healthy)
            }
            let unhealthy = checked.compactMap { $0 }.filter { !$0.1 }.map(\.0)
            if unhealthy.isEmpty {
                return (.soaked, "every host of \(stage) was still healthy after a soak of \(DurationText.format(d)) (\(hosts.count) checked)")
            }
            return (.soakFailed, "after a soak of \(DurationText.format(d)), unhealthy in \(stage): \(unhealthy.joined(separator: ", "))")
        }
    }

    // MARK: one host

    private func scope(for host: Host) -> TemplateScope {
        RolloutPlanner.scope(for: host, playbook: setup.playbook, target: setup.target, overrides: setup.overrides)
    }

    private func checker(for host: Host) -> HealthChecker<C> {
        HealthChecker(executor: executor, clock: clock, redactor: Redactor(scope: scope(for: host), extra: setup.extraSecrets))
    }

    private func probes(for host: Host) -> [PlannedProbe] {
        (try? HealthPlanner.probes(setup.playbook.health, scope: scope(for: host))) ?? []
    }

    /// One host's work, start to finish; returns its outcome once it is journaled.
    func runHost(_ name: String, recheck: Bool) async -> HostOutcome {
        await emit(.hostStarted(host: name, recheck: recheck))
        guard let host = setup.hosts[name] else {
            await emit(.hostFinished(host: name, result: HostResult(outcome: .failed, message: "not in the inventory any more")))
            return .failed
        }
        let redactor = Redactor(scope: scope(for: host), extra: setup.extraSecrets)
        var machine = HostMachine(host: name, target: setup.header.target, recheck: recheck, rollback: setup.header.rollback)
        var plan: HostPlan?
        var queue: [HostMachine.Action]
        do { queue = try machine.handle(.start) } catch { queue = [] }
        while !queue.isEmpty {
            let action = queue.removeFirst()
            var event: HostMachine.Event?
            if Task.isCancelled, !isFinish(action) {
                event = .cancelled
            } else {
                switch action {
                case .connect:
                    event = await connect(host)
                case .readVersion:
                    event = await readVersion(host, redactor: redactor)
                case .plan(let version):
                    let where_ = placement[name] ?? ("", 0)
                    let p = RolloutPlanner.hostPlan(host, stage: where_.stage, batch: where_.batch, playbook: setup.playbook,
                                                    target: setup.target, observed: .known(version, .detected),
                                                    overrides: setup.overrides)
                    plan = p
                    event = .planned(p.outcome)
                case .hopStarted(let from, let to):
                    await emit(.hopStarted(host: name, from: from, to: to))
                case .runStep(let ref, let step):
                    event = await runStep(ref, step, on: host, redactor: redactor)
                case .checkHealth(let context):
                    let probes = plan?.health ?? self.probes(for: host)
                    if probes.isEmpty {
                        event = .healthChecked(healthy: true, reason: nil)
                    } else {
                        let record = await checker(for: host).check(probes, on: host, context: context)
                        await emit(.healthChecked(host: name, record: record))
                        if Task.isCancelled && !record.healthy {
                            event = .cancelled
                        } else {
                            let why = record.probes.filter { !$0.healthy }
                                .map { "\($0.target): \($0.verdict)" + ($0.attempts.last.map { " (last: \($0.detail))" } ?? "") }
                                .joined(separator: "; ")
                            event = .healthChecked(healthy: record.healthy, reason: why.isEmpty ? nil : why)
                        }
                    }
                case .finish(let result):
                    await emit(.hostFinished(host: name, result: result))
                    return result.outcome
                }
            }
            if let event {
                do {
                    queue += try machine.handle(event)
                } catch {
                    let r = HostResult(outcome: .failed, message: "\(error)")
                    await emit(.hostFinished(host: name, result: r))
                    return .failed
                }
            }
        }
        await emit(.hostFinished(host: name, result: HostResult(outcome: .failed, message: "the host's work ended without an outcome")))
        return .failed
    }

    private func isFinish(_ a: HostMachine.Action) -> Bool {
        if case .finish = a { return true }
        return false
    }

    private func connect(_ host: Host) async -> HostMachine.Event {
        do {
            _ = try await executor.connect(host)
            return .connected
        } catch let e as RemoteError {
            return e.kind == .cancelled ? .cancelled : .connectFailed(e)
        } catch {
            return .cancelled
        }
    }

    private func readVersion(_ host: Host, redactor: Redactor) async -> HostMachine.Event {
        let observed: ObservedVersion
        do {
            let command = try VersionDetector.command(for: host, playbook: setup.playbook, target: setup.target,
                                                      overrides: setup.overrides)
            observed = VersionDetector.version(in: try await executor.run(command, on: host), pattern: setup.playbook.version.pattern)
        } catch let e as RemoteError {
            if e.kind == .cancelled { return .cancelled }
            if e.isConnectionFailure { return .connectFailed(e) }
            observed = .failed("version command: \(e.kind.rawValue): \(e.message)")
        } catch let e as PathError {
            observed = .failed(e.message)
        } catch {
            return .cancelled
        }
        switch observed {
        case .known(let v, _): await emit(.versionRead(host: host.name, version: v, problem: nil))
        case .failed(let why): await emit(.versionRead(host: host.name, version: nil, problem: redactor.redact(why)))
        case .unknown: await emit(.versionRead(host: host.name, version: nil, problem: "no version"))
        }
        if case .failed(let why) = observed { return .versionRead(.failed(redactor.redact(why))) }
        return .versionRead(observed)
    }

    /// Output kept per stream in the journal and reports.
    public static var outputTail: Int { 4096 }

    private func runStep(_ ref: StepRef, _ step: PlannedStep, on host: Host, redactor: Redactor) async -> HostMachine.Event {
        await emit(.stepStarted(host: host.name, step: ref))
        let began = clock.now
        var record = StepRecord(step: ref)
        var cancelled = false
        do {
            switch step.action {
            case .run(var command):
                if step.become { command.become = setup.become(host) }
                let r = try await executor.run(command, on: host)
                record.exitStatus = r.exitStatus
                record.signal = r.exitSignal
                record.timedOut = r.timedOut
                record.stdout = Redactor.tail(redactor.redact(r.stdout.text), bytes: Self.outputTail)
                record.stderr = Redactor.tail(redactor.redact(r.stderr.text), bytes: Self.outputTail)
            case .upload(let u):
                try await executor.upload(.file(path: u.source), to: u.destination, mode: u.mode, on: host)
                record.exitStatus = 0
            }
        } catch let e as RemoteError {
            cancelled = e.kind == .cancelled
            record.error = cancelled ? "interrupted" : redactor.redact("\(e.kind.rawValue): \(e.message)")
        } catch {
            cancelled = true
            record.error = "interrupted"
        }
        record.durationMs = began.duration(to: clock.now).milliseconds
        await emit(.stepFinished(host: host.name, record: record))
        return cancelled ? .cancelled : .stepFinished(record)
    }
}

/// The journal could not be written (or the coordinator hit a bug): the run stopped.
public struct RunJournalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
