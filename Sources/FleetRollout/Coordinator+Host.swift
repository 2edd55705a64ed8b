import FleetCore

/// One host's work: the host machine's actions performed through the executor, every state
/// change journaled before the next action.
extension Coordinator {
    func scope(for host: Host) -> TemplateScope {
        RolloutPlanner.scope(for: host, playbook: setup.playbook, target: setup.target, overrides: setup.overrides)
    }

    func checker(for host: Host) -> HealthChecker<C> {
        HealthChecker(executor: executor, clock: clock, redactor: Redactor(scope: scope(for: host), extra: setup.extraSecrets))
    }

    /// The playbook's probes rendered for `host` (a template that cannot be rendered is the
    /// host's problem, never "no probes").
    func probes(for host: Host) -> Result<[PlannedProbe], PathError> {
        Result { () throws(PathError) in try HealthPlanner.probes(setup.playbook.health, scope: scope(for: host)) }
    }

    /// One host's work, start to finish; returns its outcome once it is journaled.
    ///
    /// While the journal writes into its reserve the host machine is told to drain (it
    /// finishes the hop under way and starts no other). Once the journal cannot be written
    /// at all nothing more starts on the host: the action under way (a step's command, a
    /// health check) ends on its own, never killed, and the host stops there.
    func runHost(_ name: String, start: HostStart) async -> HostOutcome {
        var resumeAt: String?
        if case .resume(let position) = start { resumeAt = position.describe() }
        await emit(.hostStarted(host: name, recheck: start != .fresh, resumeAt: resumeAt))
        guard let host = setup.hosts[name] else {
            await emit(.hostFinished(host: name, result: HostResult(outcome: .failed, message: "not in the inventory any more")))
            return .failed
        }
        let redactor = Redactor(scope: scope(for: host), extra: setup.extraSecrets)
        var machine = HostMachine(
            host: name, target: setup.header.target, start: start, rollback: setup.header.rollback,
            versionPattern: setup.playbook.version.pattern)
        var locked = false
        var toldToDrain = false
        var last = "nothing yet"
        var queue: [HostMachine.Action]
        do { queue = try machine.handle(.start) } catch { queue = [] }
        /// The journal broke: the host stops where it is (its outcome cannot be journaled),
        /// and keeps its lock (a resume of this run goes on with it).
        func stopHere() async -> HostOutcome {
            state.withLock { $0.stoppedHosts.append("\(name): after \(last)") }
            return .interrupted
        }
        while !queue.isEmpty {
            let action = queue.removeFirst()
            if sinkError != nil, !isFinish(action) { return await stopHere() }
            var event: HostMachine.Event?
            if Task.isCancelled, !isFinish(action) {
                event = .cancelled
            } else {
                switch action {
                case .connect:
                    event = await connect(host)
                case .lock:
                    let outcome = await setup.hostLocks?.acquire(host) ?? .acquired(note: nil)
                    if case .acquired(let note) = outcome {
                        locked = true
                        if let note { await emit(.note(host: name, text: note)) }
                    }
                    event = .locked(outcome)
                case .readVersion:
                    event = await readVersion(host)
                case .noteVersion(let version, let problem):
                    await emit(.versionRead(host: name, version: version, problem: problem.map(redactor.redact)))
                case .plan(let version):
                    let placed = state.withLock { s in s.record.host(name).map { ($0.stage, $0.batch) } } ?? ("", 0)
                    let p = RolloutPlanner.hostPlan(
                        host, stage: placed.0, batch: placed.1, playbook: setup.playbook,
                        target: setup.target, observed: .known(version, .detected),
                        overrides: setup.overrides)
                    event = .planned(p.outcome, probes: p.health)
                case .hopStarted(let from, let to):
                    await emit(.hopStarted(host: name, from: from, to: to))
                case .runStep(let ref, let step):
                    await emit(.stepStarted(host: name, step: ref))
                    // A step starts only once the journal holds that it does.
                    if sinkError != nil { return await stopHere() }
                    last =
                        "\(ref.phase == .rollback ? "rollback step" : "step") \(ref.index + 1) \"\(ref.name)\" of \(ref.from) -> \(ref.to)"
                    event = await runStep(ref, step, on: host, redactor: redactor)
                case .checkHealth(let probes, let context):
                    last = "the health check \(context)"
                    let record = await checker(for: host).check(probes, on: host, context: context)
                    await emit(.healthChecked(host: name, record: record))
                    event = Task.isCancelled && !record.healthy ? .cancelled : .healthChecked(record)
                case .finish(let result):
                    await emit(.hostFinished(host: name, result: result))
                    if locked { await releaseLock(host, unless: machine.leftMidUpgrade) }
                    return result.outcome
                }
            }
            if let event {
                do {
                    if !toldToDrain && stopping {
                        toldToDrain = true
                        _ = try machine.handle(.drain)
                    }
                    queue += try machine.handle(event)
                } catch {
                    let r = HostResult(outcome: .failed, message: "\(error)")
                    await emit(.hostFinished(host: name, result: r))
                    if locked { await releaseLock(host, unless: true) }
                    return .failed
                }
            }
        }
        await emit(.hostFinished(host: name, result: HostResult(outcome: .failed, message: "the host's work ended without an outcome")))
        if locked { await releaseLock(host, unless: true) }
        return .failed
    }

    private func isFinish(_ a: HostMachine.Action) -> Bool {
        if case .finish = a { return true }
        return false
    }

    /// Gives the host's lock back, unless its upgrade is unfinished: then the lock stays
    /// (only this run's resume takes it over; other runs are refused the host), and the
    /// journal says so, as it says a release that failed.
    private func releaseLock(_ host: Host, unless midUpgrade: Bool) async {
        if midUpgrade {
            return await emit(
                .note(
                    host: host.name,
                    text: "its host lock stays: its upgrade is unfinished (`fleetup resume \(setup.header.id)` goes on with it)"))
        }
        guard let why = await setup.hostLocks?.release(host) else { return }
        await emit(.note(host: host.name, text: "its host lock was not released: \(why)"))
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

    /// Runs the version command; the host machine reads what it came to.
    private func readVersion(_ host: Host) async -> HostMachine.Event {
        let command: RemoteCommand
        do {
            command = try VersionDetector.command(for: host, playbook: setup.playbook, target: setup.target, overrides: setup.overrides)
        } catch {
            return .versionRead(.unrenderable(error.message))
        }
        do {
            return .versionRead(.output(try await executor.run(command, on: host)))
        } catch let e as RemoteError {
            return .versionRead(.error(e))
        } catch {
            return .cancelled
        }
    }

    /// Output kept per stream in the journal and reports.
    public static var outputTail: Int { 4096 }

    /// Runs a step whose start is journaled; journals how it ended.
    private func runStep(_ ref: StepRef, _ step: PlannedStep, on host: Host, redactor: Redactor) async -> HostMachine.Event {
        let began = clock.now
        var record = StepRecord(step: ref)
        var cancelled = false
        do {
            switch step.action {
            case .run(var command):
                if step.become {
                    var become = setup.become(host)
                    if let user = step.becomeUser { become.user = user }
                    command.become = become
                }
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
