/// One step ready to run on one host: every template rendered, secrets only in the script.
public struct PlannedStep: Sendable, Hashable {
    public var name: String
    public var action: PlannedAction
    /// Through sudo (the step's `become:`, else the host's `ansible_become`).
    public var become: Bool
    /// The user sudo runs it as when the step names one (`become_user`); nil: the host's.
    public var becomeUser: String?
    public var retries: Int
    /// Past this step, rollback no longer runs: going back needs the backups.
    public var noReturn: Bool
    /// The release whose own instruction this is; nil for the playbook's `steps:`.
    public var release: String?
    /// Where the playbook writes it.
    public var line: Int?

    public init(
        name: String, action: PlannedAction, become: Bool = false, becomeUser: String? = nil, retries: Int = 0,
        noReturn: Bool = false, release: String? = nil, line: Int? = nil
    ) {
        self.name = name
        self.action = action
        self.become = become
        self.becomeUser = becomeUser
        self.retries = retries
        self.noReturn = noReturn
        self.release = release
        self.line = line
    }

    /// The step's timeout (kept on the command).
    public var timeout: Duration? {
        if case .run(let c) = action { return c.timeout }
        return nil
    }
}

/// What a planned step does.
public enum PlannedAction: Sendable, Hashable {
    /// A command (its `display` has secrets redacted; its timeout is the step's).
    case run(RemoteCommand)
    case upload(UploadPlan)

    /// As plans and reports show it: the command, or `upload SRC -> DEST (mode 0644)`.
    public var display: String {
        switch self {
        case .run(let c): return c.display
        case .upload(let u): return "upload \(u.sourceDisplay) -> \(u.destinationDisplay) (mode \(u.modeText))"
        }
    }

    public var isRun: Bool {
        if case .run = self { return true }
        return false
    }

    /// What makes two steps the same instruction (cumulative paths run each once).
    public var identity: String {
        switch self {
        case .run(let c): return "run\u{0}\(c.script)"
        case .upload(let u): return "upload\u{0}\(u.source)\u{0}\(u.destination)\u{0}\(u.mode)"
        }
    }
}

/// A file to write on the host.
public struct UploadPlan: Sendable, Hashable {
    /// Local path (relative ones resolved from the playbook's folder).
    public var source: String
    public var destination: String
    public var mode: Int
    public var sourceDisplay: String
    public var destinationDisplay: String

    public init(source: String, destination: String, mode: Int, sourceDisplay: String? = nil, destinationDisplay: String? = nil) {
        self.source = source
        self.destination = destination
        self.mode = mode
        self.sourceDisplay = sourceDisplay ?? source
        self.destinationDisplay = destinationDisplay ?? destination
    }

    /// `0644`.
    public var modeText: String {
        let s = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}

/// A step a hop leaves out because its `when:` does not hold.
public struct SkippedStep: Sendable, Hashable {
    public var name: String
    /// `restart_streaming is false`.
    public var reason: String
    public var release: String?
    public var line: Int?

    public init(name: String, reason: String, release: String? = nil, line: Int? = nil) {
        self.name = name
        self.reason = reason
        self.release = release
        self.line = line
    }
}

/// One move of a host from a release to a later one, with the exact steps it runs.
public struct Hop: Sendable, Hashable {
    /// Release texts as the playbook writes them (`v3.0.0`).
    public var from: String
    public var to: String
    /// The releases whose own instructions (and flags) this hop carries, oldest first:
    /// just `to` for a sequential hop, every release after `from` up to `to` for a cumulative one.
    public var releases: [String]
    /// The release flags that are true on this hop.
    public var flags: [String]
    public var steps: [PlannedStep]
    public var skipped: [SkippedStep]
    /// What runs if the hop fails before its point of no return.
    public var rollback: [PlannedStep]

    public init(
        from: String, to: String, releases: [String], flags: [String] = [], steps: [PlannedStep],
        skipped: [SkippedStep] = [], rollback: [PlannedStep] = []
    ) {
        self.from = from
        self.to = to
        self.releases = releases
        self.flags = flags
        self.steps = steps
        self.skipped = skipped
        self.rollback = rollback
    }

    /// The index of the first `no_return` step, if any.
    public var pointOfNoReturn: Int? { steps.firstIndex { $0.noReturn } }
}

/// A health probe ready to run on one host.
public struct PlannedProbe: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// GET `path` from `host:port` as the host sees it (through an SSH tunnel).
        case http(host: String, port: Int, path: String)
        case tcp(host: String, port: Int)
        case command(RemoteCommand)
    }

    public var kind: Kind
    /// Statuses that pass; nil means 200-399.
    public var expectStatus: [Int]?
    public var bodyContains: String?
    public var timing: ProbeTiming
    public var logs: RemoteCommand?

    public init(
        kind: Kind, expectStatus: [Int]? = nil, bodyContains: String? = nil,
        timing: ProbeTiming = ProbeTiming(), logs: RemoteCommand? = nil
    ) {
        self.kind = kind
        self.expectStatus = expectStatus
        self.bodyContains = bodyContains
        self.timing = timing
        self.logs = logs
    }

    /// `http://127.0.0.1:8065/api/v4/system/ping`, `tcp 127.0.0.1:3000`, `command: …`.
    public var target: String {
        switch kind {
        case .http(let host, let port, let path): return "http://\(host):\(port)\(path)"
        case .tcp(let host, let port): return "tcp \(host):\(port)"
        case .command(let c): return "command: \(c.display)"
        }
    }

    /// What passes: `status 200, body contains "status":"OK"`.
    public var expectation: String {
        switch kind {
        case .command: return "exit 0"
        case .tcp: return "connects"
        case .http:
            var s = expectStatus.map { "status " + $0.map(String.init).joined(separator: " or ") } ?? "status 200-399"
            if let b = bodyContains { s += ", body contains \(b)" }
            return s
        }
    }
}

/// Where a host's current version came from.
public enum VersionSource: String, Sendable, Hashable {
    /// The `current_version` inventory variable.
    case inventory
    /// The playbook's version command, run on the host.
    case detected
    /// Neither (no `current_version`, no `--detect`).
    case none
}

/// What the plan will do with one host.
public enum HostPlanOutcome: Sendable, Hashable {
    /// Upgrade along these hops.
    case upgrade([Hop])
    /// Already on the target: skipped (and reported as such).
    case alreadyCurrent
    /// No version known yet: `run` detects it; `plan --detect` would too.
    case unknownVersion
    /// The host cannot be planned: a version not in `releases`, ahead of the target, a
    /// version command that failed, an unreachable host. An error for this host only.
    case error(String)
}

/// One host's plan.
public struct HostPlan: Sendable, Hashable {
    public var host: String
    public var stage: String
    /// 1-based, within its stage.
    public var batch: Int
    /// The version as read (nil when none is known).
    public var version: String?
    public var versionSource: VersionSource
    public var outcome: HostPlanOutcome
    /// Run after every hop.
    public var health: [PlannedProbe]

    public init(
        host: String, stage: String, batch: Int, version: String?, versionSource: VersionSource,
        outcome: HostPlanOutcome, health: [PlannedProbe] = []
    ) {
        self.host = host
        self.stage = stage
        self.batch = batch
        self.version = version
        self.versionSource = versionSource
        self.outcome = outcome
        self.health = health
    }

    /// Hops when upgrading, else none.
    public var hops: [Hop] {
        if case .upgrade(let h) = outcome { return h }
        return []
    }
}

/// One batch of a stage: the hosts started together, and when it halts the run.
public struct PlannedBatch: Sendable, Hashable {
    public var hosts: [String]
    /// Failed hosts in this batch that halt the run (may exceed the batch: never halts on its own).
    public var haltAt: Int
    /// Hosts that would have been in this batch by their place, and wait for a later one
    /// (`rolling.spread`).
    public var deferred: [Deferral]

    public init(hosts: [String], haltAt: Int, deferred: [Deferral] = []) {
        self.hosts = hosts
        self.haltAt = haltAt
        self.deferred = deferred
    }
}

/// A host that would have been in a batch by its place and waits for a later one.
public struct Deferral: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// `mm-eu-01 of cluster eu is in batch 2`
    public var reason: String

    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }

    /// `mm-eu-02 waits: mm-eu-01 of cluster eu is in batch 2`
    public var description: String { "\(host) waits: \(reason)" }
}

public struct PlannedStage: Sendable, Hashable {
    /// The stage's pattern as the playbook writes it (`staging`).
    public var name: String
    public var batches: [PlannedBatch]

    public init(name: String, batches: [PlannedBatch]) {
        self.name = name
        self.batches = batches
    }

    public var hostCount: Int { batches.reduce(0) { $0 + $1.hosts.count } }
}

/// Everything `fleetup plan` shows and `run` will do, computed without touching a host
/// (except reading versions with `--detect`).
public struct RolloutPlan: Sendable, Hashable {
    public var playbook: String
    public var playbookFile: String
    /// The playbook's `hosts:` pattern, and `--limit` when one was given.
    public var hostsPattern: String
    public var limit: String?
    public var target: String
    /// True when `--target` chose it (else the playbook's default).
    public var targetFromCommandLine: Bool
    public var path: PathMode
    public var versionSource: VersionSource
    public var policy: RolloutPolicy
    public var stages: [PlannedStage]
    /// In stage, batch and batch-order order.
    public var hosts: [HostPlan]

    public init(
        playbook: String, playbookFile: String, hostsPattern: String, limit: String? = nil, target: String,
        targetFromCommandLine: Bool = false, path: PathMode, versionSource: VersionSource,
        policy: RolloutPolicy, stages: [PlannedStage], hosts: [HostPlan]
    ) {
        self.playbook = playbook
        self.playbookFile = playbookFile
        self.hostsPattern = hostsPattern
        self.limit = limit
        self.target = target
        self.targetFromCommandLine = targetFromCommandLine
        self.path = path
        self.versionSource = versionSource
        self.policy = policy
        self.stages = stages
        self.hosts = hosts
    }

    /// True when no host has an error.
    public var isClean: Bool {
        hosts.allSatisfy {
            if case .error = $0.outcome { return false }; return true
        }
    }
}
