import FleetCore

/// How a host's work begins in this part of the run (docs/runs.md, "Resume by steps").
public enum HostStart: Sendable, Hashable {
    /// Plan its path from the version it reports (a host new to the run).
    case fresh
    /// Plan afresh from the version it reports, and on the target already check its health
    /// (`fleetup resume --replan`: an operator restored or repaired it by hand).
    case replan
    /// Go on from where the journal left it: the first step of its hop that did not finish.
    case resume(HostPosition)
}

/// What running a host's version command came to, as the coordinator saw it.
public enum VersionReading: Sendable, Hashable {
    /// The command ran: its result (the machine reads the version out of it).
    case output(CommandResult)
    /// The transport's error (a lost connection, an interrupt, a refused channel).
    case error(RemoteError)
    /// The command could not be made for this host (a template that does not render).
    case unrenderable(String)
}

/// One host's upgrade as a pure state machine (docs/design.md §5.3, §5.5, §5.6): connect,
/// take the host's lock, read the version, plan the path, run each hop's steps (with
/// retries), check health after every hop, read the version again at the end. On a failure
/// before the hop's point of no return the rollback steps run; after it, nothing is reverted
/// blindly and the result says which backups to restore. A resumed host goes on from its
/// journal's position (`HostStart.resume`), never from what its version suggests. The
/// coordinator performs the actions.
public struct HostMachine: Sendable {
    // Both enums `indirect`, as RunEvent: one reference wide, so the coordinator's host
    // task does not keep copies of their widest case (192 and 281 bytes) in its async frame.
    public indirect enum Event: Sendable, Hashable {
        case start
        case connected
        case connectFailed(RemoteError)
        /// The host's own lock was asked.
        case locked(HostLockOutcome)
        case versionRead(VersionReading)
        /// The host's plan for the version `plan` named (the coordinator asks the planner),
        /// with its health probes.
        case planned(HostPlanOutcome, probes: [PlannedProbe])
        case stepFinished(StepRecord)
        /// What the health check found.
        case healthChecked(HealthRecord)
        /// The run is stopping (its journal's disk is full): finish the hop under way, start
        /// no other. Sent before the next event; it returns no action of its own.
        case drain
        /// A second Ctrl-C ended what ran.
        case cancelled
    }

    public indirect enum Action: Sendable, Hashable {
        case connect
        /// Take the host's lock, then send `locked`.
        case lock
        case readVersion
        /// Journal what the version command came to (before anything it decides happens).
        case noteVersion(version: String?, problem: String?)
        /// Plan the path from this version, then send `planned`.
        case plan(version: String)
        case hopStarted(from: String, to: String)
        case runStep(StepRef, PlannedStep)
        /// Run these probes (never none), then send `healthChecked`.
        case checkHealth(probes: [PlannedProbe], context: String)
        case finish(HostResult)
    }

    private enum Stage: Sendable, Hashable {
        /// Waiting for `start`.
        case idle
        /// Connecting (the pre-flight usually did already: then at once).
        case connecting
        /// Taking the host's own lock: nothing runs on it before.
        case locking
        /// Reading the version before anything changes.
        case readingVersion
        /// Waiting for the path planned from a version.
        case planning
        /// Running step `step` of hop `hop`, try `attempt`.
        case inHop(hop: Int, step: Int, attempt: Int)
        /// The health check after hop `hop`; nil: a replanned host's check on the target.
        case checkingHealth(hop: Int?)
        /// Running rollback step `step` of hop `hop`, after `failure`.
        case rollingBack(hop: Int, step: Int, failure: String)
        /// The last version read: the host must report the target.
        case verifying
        /// Finished with this outcome: no event but a late `drain` is taken.
        case done(HostOutcome)
    }

    public let host: String
    public let target: String
    public let start: HostStart
    public let rollbackEnabled: Bool
    /// The playbook's `version.pattern`.
    public let versionPattern: String?

    private var stage: Stage = .idle
    /// The path planned from `versionBefore`, and the probes run after each hop.
    private var hops: [Hop] = []
    private var probes: [PlannedProbe] = []
    private var versionBefore: String?
    /// The hop under way went past its point of no return (at this step).
    private var noReturnPassed: PlannedStep?
    /// The run is stopping: finish the hop under way, start no other.
    private var draining = false
    /// A hop started on the host in this run (now or in the part the journal resumes).
    private var changed = false

    /// The host ended with its upgrade unfinished: a hop under way (or resumed) and not
    /// upgraded, rolled back or current. Its host lock stays, for this run's resume alone.
    public var leftMidUpgrade: Bool {
        guard changed, case .done(let outcome) = stage else { return false }
        return outcome != .upgraded && outcome != .rolledBack && outcome != .alreadyCurrent
    }

    public init(host: String, target: String, start: HostStart = .fresh, rollback: Bool = true, versionPattern: String? = nil) {
        self.host = host
        self.target = target
        self.start = start
        self.rollbackEnabled = rollback
        self.versionPattern = versionPattern
        if case .resume(let position) = start { changed = !position.isClean }
    }

    public mutating func handle(_ event: Event) throws(MachineError) -> [Action] {
        switch (stage, event) {
        case (.done, .drain):
            return []
        case (.done, _):
            throw MachineError("\(host): \(event) after the host finished")
        case (_, .drain):
            draining = true
            return []
        case (_, .cancelled):
            return finish(.interrupted, message: "interrupted: its commands were ended (resume goes on from its last step)")
        case (.idle, .start):
            stage = .connecting
            return [.connect]
        case (.connecting, .connected):
            stage = .locking
            return [.lock]
        case (.connecting, .connectFailed(let e)), (.locking, .connectFailed(let e)), (.readingVersion, .connectFailed(let e)):
            return finish(e.isConnectionFailure ? .unreachable : .failed, message: "\(e.kind.rawValue): \(e.message)")
        case (.verifying, .connectFailed(let e)):
            return finish(.failed, message: "after the upgrade: \(e.kind.rawValue): \(e.message)")
        case (.locking, .locked(let outcome)):
            switch outcome {
            case .acquired:
                if draining { return stopBeforeAnything() }
                stage = .readingVersion
                return [.readVersion]
            case .refused(let why):
                return finish(.failed, message: why)
            case .failed(let e):
                return finish(
                    e.isConnectionFailure ? .unreachable : .failed,
                    message: "its lock could not be taken: \(e.kind.rawValue): \(e.message)")
            }
        case (.readingVersion, .versionRead(let reading)), (.verifying, .versionRead(let reading)):
            guard let (v, note) = observe(reading) else {
                guard case .error(let e) = reading else { return [] }
                return try handle(e.kind == .cancelled ? .cancelled : .connectFailed(e))
            }
            return [note] + afterVersion(v)
        case (.planning, .planned(let outcome, let probes)):
            self.probes = probes
            if draining { return stopBeforeAnything() }
            if case .resume(let position) = start { return resumePlanned(outcome, position) }
            switch outcome {
            case .alreadyCurrent:
                if start == .replan { return checkHealth(after: nil) }
                return finish(.alreadyCurrent, after: versionBefore)
            case .error(let why):
                return finish(.failed, message: why)
            case .unknownVersion:
                return finish(.failed, message: "no version read")
            case .upgrade(let h):
                hops = h
                return startHop(0)
            }
        case (.inHop(let hop, let step, let attempt), .stepFinished(let record)):
            return stepFinished(record, hop: hop, step: step, attempt: attempt)
        case (.rollingBack(let hop, let step, let failure), .stepFinished(let record)):
            guard record.succeeded else {
                return finish(.failed, message: "\(failure); then rollback step \"\(record.step.name)\" \(record.outcomeText)")
            }
            return rollback(hop: hop, from: step + 1, failure: failure)
        case (.checkingHealth(let hop), .healthChecked(let record)):
            return healthChecked(after: hop, healthy: record.healthy, reason: Self.reason(record))
        default:
            throw MachineError("\(host): \(event) while \(stage)")
        }
    }

    /// The version a reading holds, and the journal note for it; nil when the transport
    /// failed (a lost connection or an interrupt: not the version command's fault).
    private func observe(_ reading: VersionReading) -> (ObservedVersion, Action)? {
        let v: ObservedVersion
        switch reading {
        case .output(let result): v = VersionDetector.version(in: result, pattern: versionPattern)
        case .unrenderable(let why): v = .failed(why)
        case .error(let e):
            if e.kind == .cancelled || e.isConnectionFailure { return nil }
            v = .failed("version command: \(e.kind.rawValue): \(e.message)")
        }
        switch v {
        case .known(let text, _): return (v, .noteVersion(version: text, problem: nil))
        case .failed(let why): return (v, .noteVersion(version: nil, problem: why))
        case .unknown: return (v, .noteVersion(version: nil, problem: "no version"))
        }
    }

    /// Goes on once the version is known: plan from it (before), or check it (at the end).
    private mutating func afterVersion(_ v: ObservedVersion) -> [Action] {
        if case .verifying = stage {
            switch v {
            case .known(let text, _):
                if Version(text) == Version(target) { return finish(.upgraded, after: text) }
                return finish(.failed, after: text, message: "the host reports \(text) after the upgrade, expected \(target)")
            case .failed(let why):
                return finish(.failed, message: "after the upgrade: \(why)")
            case .unknown:
                return finish(.failed, message: "after the upgrade: no version read")
            }
        }
        if draining { return stopBeforeAnything() }
        if case .resume(let position) = start { return resumeRead(v, position) }
        switch v {
        case .known(let text, _):
            versionBefore = text
            stage = .planning
            return [.plan(version: text)]
        case .failed(let why):
            return finish(.failed, message: why)
        case .unknown:
            return finish(.failed, message: "no version read")
        }
    }

    /// The health check after hop `hop` (nil: a replanned host's on the target); none to
    /// run when the playbook has no probes: healthy.
    private mutating func checkHealth(after hop: Int?) -> [Action] {
        stage = .checkingHealth(hop: hop)
        if probes.isEmpty { return healthChecked(after: hop, healthy: true, reason: nil) }
        let context = hop.map { "after \(hops[$0].from) -> \(hops[$0].to)" } ?? "re-check on resume"
        return [.checkHealth(probes: probes, context: context)]
    }

    private mutating func healthChecked(after hop: Int?, healthy: Bool, reason: String?) -> [Action] {
        guard let hop else {
            return healthy
                ? finish(.upgraded, after: versionBefore)
                : finish(.failed, message: "re-check on resume: on \(versionBefore ?? "?") but unhealthy: \(reason ?? "health failed")")
        }
        let h = hops[hop]
        if !healthy {
            return failed("health check failed after \(h.from) -> \(h.to): \(reason ?? "unhealthy")", hop: hop)
        }
        if hop + 1 < hops.count {
            if draining {
                return finish(
                    .interrupted, after: h.to,
                    message:
                        "stopped after \(h.from) -> \(h.to) (healthy): the run was stopping; resume goes on with \(h.to) -> \(hops[hop + 1].to)"
                )
            }
            return startHop(hop + 1)
        }
        stage = .verifying
        return [.readVersion]
    }

    /// Why a check was unhealthy: each failing probe's verdict and its last attempt.
    static func reason(_ record: HealthRecord) -> String? {
        let why = record.probes.filter { !$0.healthy }
            .map { "\($0.target): \($0.verdict)" + ($0.attempts.last.map { " (last: \($0.detail))" } ?? "") }
            .joined(separator: "; ")
        return why.isEmpty ? nil : why
    }

    /// Draining before the first change on the host: it ends as it was.
    private mutating func stopBeforeAnything() -> [Action] {
        finish(.interrupted, message: "the run was stopping before anything ran on it")
    }

    // MARK: resume by steps

    /// A resumed host's version only tells whether someone else moved it: a half-done hop
    /// may report either end of it (or nothing, mid-unpack). Anything else stops the host.
    private mutating func resumeRead(_ v: ObservedVersion, _ position: HostPosition) -> [Action] {
        if case .known(let text, _) = v, !position.expectedVersions.contains(where: { Version($0) == Version(text) }) {
            let expected = position.expectedVersions.joined(separator: " or ")
            return finish(
                .failed, after: text,
                message:
                    "the journal left it mid-hop \(position.hop.map { "\($0)" } ?? "?") but it reports \(text) (expected \(expected)): "
                    + "it was changed outside this run; look at it, then `fleetup resume --replan \(host)` plans it afresh from the version it reports"
            )
        }
        guard let from = position.start else {
            return finish(
                .failed, message: "the journal holds no version its path started from: `fleetup resume --replan \(host)` plans it afresh")
        }
        versionBefore = from
        stage = .planning
        return [.plan(version: from)]
    }

    /// Finds the journal's hop in the path planned from the same version and goes on there.
    private mutating func resumePlanned(_ outcome: HostPlanOutcome, _ position: HostPosition) -> [Action] {
        guard case .upgrade(let planned) = outcome else {
            return finish(
                .failed,
                message: "the journal left it mid-upgrade but the playbook now plans no upgrade from \(versionBefore ?? "?"): "
                    + "`fleetup resume --replan \(host)` plans it afresh")
        }
        hops = planned
        switch ResumePoint.locate(position, in: planned) {
        case .mismatch(let why):
            return finish(
                .failed,
                message: "the playbook changed since the journal left it in \(position.hop.map { "\($0)" } ?? "?"): \(why); "
                    + "finish that hop by hand, then `fleetup resume --replan \(host)`")
        case .rollback(let h, let next):
            return rollback(hop: h, from: next, failure: "resumed its rollback of \(planned[h].from) -> \(planned[h].to)")
        case .step(let h, let next, let pastNoReturn):
            noReturnPassed = pastNoReturn
            return [runStep(hop: h, step: next, attempt: 1)]
        case .health(let h):
            let hp = planned[h]
            noReturnPassed = hp.pointOfNoReturn.map { hp.steps[$0] }
            return checkHealth(after: h)
        }
    }

    // MARK: hops and steps

    private mutating func startHop(_ i: Int) -> [Action] {
        changed = true
        noReturnPassed = nil
        let h = hops[i]
        guard !h.steps.isEmpty else { return [.hopStarted(from: h.from, to: h.to)] + checkHealth(after: i) }
        return [.hopStarted(from: h.from, to: h.to), runStep(hop: i, step: 0, attempt: 1)]
    }

    /// Runs step `step` of hop `hop`. A `no_return` step passes the point of no return as
    /// it STARTS: cut off or failed halfway, it may have done its irreversible part (a
    /// migration that applied some changes, a new release that migrated as it started), so
    /// nothing is rolled back from then on (docs/design.md §5.6).
    private mutating func runStep(hop: Int, step: Int, attempt: Int) -> Action {
        stage = .inHop(hop: hop, step: step, attempt: attempt)
        let s = hops[hop].steps[step]
        if s.noReturn && noReturnPassed == nil { noReturnPassed = s }
        return run(s, phase: .upgrade, hop: hop, step: step, attempt: attempt)
    }

    private func run(_ s: PlannedStep, phase: StepPhase, hop: Int, step: Int, attempt: Int) -> Action {
        let h = hops[hop]
        return .runStep(
            StepRef(
                phase: phase, from: h.from, to: h.to, index: step, name: s.name, command: s.action.display,
                release: s.release, attempt: attempt), s)
    }

    private mutating func stepFinished(_ record: StepRecord, hop: Int, step: Int, attempt: Int) -> [Action] {
        let h = hops[hop]
        let s = h.steps[step]
        guard record.succeeded else {
            if attempt <= s.retries { return [runStep(hop: hop, step: step, attempt: attempt + 1)] }
            return failed("step \"\(s.name)\" of \(h.from) -> \(h.to) \(record.outcomeText)", hop: hop)
        }
        if step + 1 < h.steps.count { return [runStep(hop: hop, step: step + 1, attempt: 1)] }
        return checkHealth(after: hop)
    }

    /// Runs hop `hop`'s rollback from step `i`; past the last one the host is rolled back.
    private mutating func rollback(hop: Int, from i: Int, failure: String) -> [Action] {
        let h = hops[hop]
        guard i < h.rollback.count else { return finish(.rolledBack, after: h.from, message: failure) }
        stage = .rollingBack(hop: hop, step: i, failure: failure)
        return [run(h.rollback[i], phase: .rollback, hop: hop, step: i, attempt: 1)]
    }

    /// A step or the health check of hop `hop` failed: roll back, or say what to restore.
    private mutating func failed(_ why: String, hop: Int) -> [Action] {
        let h = hops[hop]
        if let point = noReturnPassed {
            return finish(.failed, after: nil, message: why, restore: Self.restoreHint(h, point: point, host: host))
        }
        guard rollbackEnabled, !h.rollback.isEmpty else {
            return finish(.failed, message: why + (rollbackEnabled ? " (the playbook has no rollback steps)" : " (--no-rollback)"))
        }
        return rollback(hop: hop, from: 0, failure: why)
    }

    private mutating func finish(
        _ outcome: HostOutcome, after: String? = nil, message: String? = nil,
        restore: String? = nil
    ) -> [Action] {
        stage = .done(outcome)
        // The planned path: where it started, then every release it was to visit.
        let path = (versionBefore.map { [$0] } ?? []) + hops.map(\.to)
        return [
            .finish(
                HostResult(
                    outcome: outcome, versionBefore: versionBefore, versionAfter: after, path: path,
                    message: message, restore: restore))
        ]
    }

    /// Past the point of no return nothing is reverted: the backups this hop took are what
    /// a restore needs. Named by the hop's backup steps' commands, as they ran (redacted).
    static func restoreHint(_ h: Hop, point: PlannedStep, host: String) -> String {
        let end = h.steps.firstIndex(of: point) ?? h.steps.count
        let backups = h.steps[..<end].filter { s in
            let text = (s.name + " " + s.action.display).lowercased()
            return text.contains("backup") || text.contains("back up") || text.contains("dump")
        }
        var out = "\(h.from) -> \(h.to) went past its point of no return (step \"\(point.name)\"), so nothing was rolled back; "
        if backups.isEmpty {
            out += "this hop took no backup step: restore the host from your own backups of \(h.from)"
        } else {
            out +=
                "restore \(h.from) from the backups this hop took: "
                + backups.map { "\"\($0.name)\": \($0.action.display)" }.joined(separator: "; ")
        }
        return out
            + "; once restored, `fleetup resume --replan \(host)` upgrades it again (or fix it forward, then `fleetup resume --retry-failed` goes on from where it failed)"
    }
}
