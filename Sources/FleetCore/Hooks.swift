/// Where in a run a playbook's hooks run (docs/playbooks.md, "Hooks"): local commands on
/// fleetup's own events. `before_*` hooks can stop the run before anything changes on a
/// host; the others are told what happened and never change the run's outcome.
public enum HookPoint: String, Sendable, Hashable, Codable, CaseIterable {
    case beforeRun = "before_run"
    case beforeStage = "before_stage"
    case afterBatch = "after_batch"
    case onGate = "on_gate"
    case onHalt = "on_halt"
    case afterRun = "after_run"

    /// A failing hook here stops the run (before the run, or before the stage, starts).
    public var blocks: Bool { self == .beforeRun || self == .beforeStage }
}

/// One hook of a playbook: a local command (`sh -c`), its time limit, and the environment
/// variables it is given besides fleetup's own (`env:`: values are templates of the
/// playbook's variables, so a secret reaches a hook only when named here).
public struct HookSpec: Sendable, Hashable {
    public var name: String
    public var run: Template
    public var timeout: Duration
    public var env: [String: Template]
    public var line: Int?

    public static let defaultTimeout = Duration.seconds(60)

    public init(name: String, run: Template, timeout: Duration = HookSpec.defaultTimeout, env: [String: Template] = [:], line: Int? = nil) {
        self.name = name
        self.run = run
        self.timeout = timeout
        self.env = env
        self.line = line
    }
}

/// What a hook is told: the run and where it is (the JSON on its stdin and its `FLEETUP_*`
/// variables are made from this).
public struct HookContext: Sendable, Hashable {
    public var point: HookPoint
    public var runID: String
    public var playbook: String
    public var target: String
    public var stage: String?
    /// 1-based, within the stage.
    public var batch: Int?
    public var hosts: [String]
    /// The stage after the gate (`on_gate`).
    public var next: String?
    /// `after_run`: how the run ended.
    public var outcome: RunOutcome?
    /// `on_halt`: why; `on_gate`: the kind of gate; `after_run`: the hosts by status.
    public var reason: String?

    public init(
        point: HookPoint, runID: String, playbook: String, target: String, stage: String? = nil, batch: Int? = nil,
        hosts: [String] = [], next: String? = nil, outcome: RunOutcome? = nil, reason: String? = nil
    ) {
        self.point = point
        self.runID = runID
        self.playbook = playbook
        self.target = target
        self.stage = stage
        self.batch = batch
        self.hosts = hosts
        self.next = next
        self.outcome = outcome
        self.reason = reason
    }
}

/// How one hook ran, as the journal and the reports keep it.
public struct HookRecord: Sendable, Hashable, Codable {
    public var point: HookPoint
    public var name: String
    public var stage: String?
    public var batch: Int?
    /// The exit status; nil when a signal or the time limit ended it, or it could not start.
    public var status: Int32?
    public var signal: Int32?
    public var timedOut: Bool
    /// Why it could not start (no shell, a template that did not render).
    public var error: String?
    /// The end of what it printed (stdout and stderr, in order), secrets redacted.
    public var output: String
    public var durationMs: Int

    public init(
        point: HookPoint, name: String, stage: String? = nil, batch: Int? = nil, status: Int32? = nil, signal: Int32? = nil,
        timedOut: Bool = false, error: String? = nil, output: String = "", durationMs: Int = 0
    ) {
        self.point = point
        self.name = name
        self.stage = stage
        self.batch = batch
        self.status = status
        self.signal = signal
        self.timedOut = timedOut
        self.error = error
        self.output = output
        self.durationMs = durationMs
    }

    public var passed: Bool { status == 0 && !timedOut && error == nil }

    /// `exit 0`, `exit 3`, `ended by signal 9`, `timed out after 5 s`, `could not start: …`.
    public var outcomeText: String {
        if let error { return "could not start: \(error)" }
        if timedOut { return "timed out after \(Double(durationMs) / 1000) s (ended)" }
        if let status { return "exit \(status)" }
        return "ended by signal \(signal ?? 0)"
    }

    /// `before_stage hook "announce" (prod): exit 1`.
    public var summary: String {
        let place = [stage, batch.map { "batch \($0)" }].compactMap { $0 }.joined(separator: " ")
        return "\(point.rawValue) hook \"\(name)\"\(place.isEmpty ? "" : " (\(place))"): \(outcomeText)"
    }
}

extension HookSpec {
    /// What a hook's templates see: the playbook's `vars:` and `--var` values (its `secret:`
    /// names as secrets) and the run's facts — `run_id`, `target`, `stage`, `batch`, `point`.
    /// Host variables are not there: a hook runs once, on this machine.
    public static func scope(playbook: Playbook, overrides: [String: VarValue], context: HookContext) -> TemplateScope {
        let facts = [
            "run_id": context.runID, "target": context.target, "stage": context.stage ?? "", "batch": context.batch.map(String.init) ?? "",
            "point": context.point.rawValue,
        ]
        return TemplateScope.layered([playbook.vars, overrides], secret: playbook.secret, facts: facts)
    }

    /// The command and the environment it is given, rendered in `scope` (`scope(…)`); the
    /// command's display form shows secrets as the mask.
    public func rendered(in scope: TemplateScope) throws(TemplateError) -> (command: Rendered, env: [String: String]) {
        let command = try scope.render(run, as: .shell)
        var out: [String: String] = [:]
        for (k, t) in env { out[k] = try scope.render(t, as: .text).text }
        return (command, out)
    }
}
