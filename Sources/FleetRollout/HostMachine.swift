import FleetCore

/// One host's upgrade as a pure state machine (design.md §5.3, §5.5, §5.6): connect, read
/// the version, plan the path, run each hop's steps (with retries), check health after
/// every hop, read the version again at the end. On a failure before the hop's point of no
/// return the rollback steps run; after it, nothing is reverted blindly and the result says
/// which backups to restore. The coordinator performs the actions.
public struct HostMachine: Sendable {
    public enum Event: Sendable, Hashable {
        case start
        case connected
        case connectFailed(RemoteError)
        case versionRead(ObservedVersion)
        /// The host's plan for the version just read (the coordinator asks the planner).
        case planned(HostPlanOutcome)
        case stepFinished(StepRecord)
        case healthChecked(healthy: Bool, reason: String?)
        /// A second Ctrl-C ended what ran.
        case cancelled
    }

    public enum Action: Sendable, Hashable {
        case connect
        case readVersion
        /// Plan the path from this version, then send `planned`.
        case plan(version: String)
        case hopStarted(from: String, to: String)
        case runStep(StepRef, PlannedStep)
        /// Run the host's probes, then send `healthChecked`.
        case checkHealth(context: String)
        case finish(HostResult)
    }

    private enum Stage: Sendable, Hashable {
        case idle, connecting, readingVersion, planning, inHop, checkingHealth, rollingBack, verifying, done
    }

    public let host: String
    public let target: String
    public let recheck: Bool
    public let rollbackEnabled: Bool

    private var stage: Stage = .idle
    private var hops: [Hop] = []
    private var hop = 0
    private var step = 0
    private var attempt = 1
    private var noReturnPassed: PlannedStep?
    private var versionBefore: String?
    private var failure: String?
    private var rechecking = false

    public init(host: String, target: String, recheck: Bool = false, rollback: Bool = true) {
        self.host = host
        self.target = target
        self.recheck = recheck
        self.rollbackEnabled = rollback
    }

    public var isDone: Bool { stage == .done }

    public mutating func handle(_ event: Event) throws(MachineError) -> [Action] {
        switch (stage, event) {
        case (.done, _):
            throw MachineError("\(host): \(event) after the host finished")
        case (_, .cancelled):
            return finish(.interrupted, message: "interrupted: its commands were ended (re-checked on resume)")
        case (.idle, .start):
            stage = .connecting
            return [.connect]
        case (.connecting, .connected):
            stage = .readingVersion
            return [.readVersion]
        case (.connecting, .connectFailed(let e)), (.readingVersion, .connectFailed(let e)):
            return finish(e.isConnectionFailure ? .unreachable : .failed, message: "\(e.kind.rawValue): \(e.message)")
        case (.readingVersion, .versionRead(let v)):
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
        case (.planning, .planned(let outcome)):
            switch outcome {
            case .alreadyCurrent:
                if recheck {
                    // It was mid-upgrade when the run stopped: on the target now, but healthy?
                    rechecking = true
                    stage = .checkingHealth
                    return [.checkHealth(context: "re-check on resume")]
                }
                return finish(.alreadyCurrent, after: versionBefore)
            case .error(let why):
                return finish(.failed, message: why)
            case .unknownVersion:
                return finish(.failed, message: "no version read")
            case .upgrade(let h):
                hops = h
                return startHop(0)
            }
        case (.inHop, .stepFinished(let record)), (.rollingBack, .stepFinished(let record)):
            return stepFinished(record)
        case (.checkingHealth, .healthChecked(let healthy, let reason)):
            if rechecking {
                return healthy ? finish(.upgraded, after: versionBefore)
                    : finish(.failed, message: "re-check on resume: on \(versionBefore ?? "?") but unhealthy: \(reason ?? "health failed")")
            }
            let h = hops[hop]
            if !healthy {
                return failed("health check failed after \(h.from) -> \(h.to): \(reason ?? "unhealthy")")
            }
            if hop + 1 < hops.count { return startHop(hop + 1) }
            stage = .verifying
            return [.readVersion]
        case (.verifying, .versionRead(let v)):
            switch v {
            case .known(let text, _):
                if Version(text) == Version(target) { return finish(.upgraded, after: text) }
                return finish(.failed, after: text, message: "the host reports \(text) after the upgrade, expected \(target)")
            case .failed(let why):
                return finish(.failed, message: "after the upgrade: \(why)")
            case .unknown:
                return finish(.failed, message: "after the upgrade: no version read")
            }
        case (.verifying, .connectFailed(let e)):
            return finish(.failed, message: "after the upgrade: \(e.kind.rawValue): \(e.message)")
        default:
            throw MachineError("\(host): \(event) while \(stage)")
        }
    }

    private mutating func startHop(_ i: Int) -> [Action] {
        hop = i
        noReturnPassed = nil
        let h = hops[i]
        guard !h.steps.isEmpty else {
            stage = .checkingHealth
            return [.hopStarted(from: h.from, to: h.to), .checkHealth(context: "after \(h.from) -> \(h.to)")]
        }
        stage = .inHop
        step = 0
        attempt = 1
        return [.hopStarted(from: h.from, to: h.to), run(h.steps[0], phase: .upgrade)]
    }

    private func run(_ s: PlannedStep, phase: StepPhase) -> Action {
        let h = hops[hop]
        return .runStep(StepRef(phase: phase, from: h.from, to: h.to, index: step, name: s.name, command: s.action.display,
                                release: s.release, attempt: attempt), s)
    }

    private mutating func stepFinished(_ record: StepRecord) -> [Action] {
        let h = hops[hop]
        if stage == .rollingBack {
            guard record.succeeded else {
                return finish(.failed, message: "\(failure ?? "failed"); then rollback step \"\(record.step.name)\" \(record.outcomeText)")
            }
            step += 1
            if step < h.rollback.count { return [run(h.rollback[step], phase: .rollback)] }
            return finish(.rolledBack, after: h.from, message: failure)
        }
        let s = h.steps[step]
        guard record.succeeded else {
            if attempt <= s.retries {
                attempt += 1
                return [run(s, phase: .upgrade)]
            }
            return failed("step \"\(s.name)\" of \(h.from) -> \(h.to) \(record.outcomeText)")
        }
        if s.noReturn && noReturnPassed == nil { noReturnPassed = s }
        step += 1
        attempt = 1
        if step < h.steps.count { return [run(h.steps[step], phase: .upgrade)] }
        stage = .checkingHealth
        return [.checkHealth(context: "after \(h.from) -> \(h.to)")]
    }

    /// A step or the health check failed: roll back, or say what to restore.
    private mutating func failed(_ why: String) -> [Action] {
        failure = why
        let h = hops[hop]
        if let point = noReturnPassed {
            return finish(.failed, after: nil, message: why, restore: Self.restoreHint(h, point: point))
        }
        guard rollbackEnabled, !h.rollback.isEmpty else {
            return finish(.failed, message: why + (rollbackEnabled ? " (the playbook has no rollback steps)" : " (--no-rollback)"))
        }
        stage = .rollingBack
        step = 0
        attempt = 1
        return [run(h.rollback[0], phase: .rollback)]
    }

    private mutating func finish(_ outcome: HostOutcome, after: String? = nil, message: String? = nil,
                                 restore: String? = nil) -> [Action] {
        stage = .done
        // The planned path: where it started, then every release it was to visit.
        let path = (versionBefore.map { [$0] } ?? []) + hops.map(\.to)
        return [.finish(HostResult(outcome: outcome, versionBefore: versionBefore, versionAfter: after, path: path,
                                   message: message, restore: restore))]
    }

    /// Past the point of no return nothing is reverted: the backups this hop took are what
    /// a restore needs. Named by the hop's backup steps' commands, as they ran (redacted).
    static func restoreHint(_ h: Hop, point: PlannedStep) -> String {
        let end = h.steps.firstIndex(of: point) ?? h.steps.count
        let backups = h.steps[..<end].filter { s in
            let text = (s.name + " " + s.action.display).lowercased()
            return text.contains("backup") || text.contains("back up") || text.contains("dump")
        }
        var out = "\(h.from) -> \(h.to) went past its point of no return (step \"\(point.name)\"), so nothing was rolled back; "
        if backups.isEmpty {
            out += "this hop took no backup step: restore the host from your own backups of \(h.from)"
        } else {
            out += "restore \(h.from) from the backups this hop took: " + backups.map { "\"\($0.name)\": \($0.action.display)" }.joined(separator: "; ")
        }
        return out
    }
}
