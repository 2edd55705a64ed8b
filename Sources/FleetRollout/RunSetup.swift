import FleetCore

/// Decides what a manual gate says (the CLI asks on the terminal, or reads `--approve`).
public protocol GateKeeper: Sendable {
    func approve(stage: String, next: String) async -> (GateDecision, String?)
    /// The same, calling `waiting` when it starts waiting for an approval from elsewhere
    /// (the coordinator journals it, so `fleetup runs` can say the run waits).
    func approve(stage: String, next: String, waiting: @escaping @Sendable () async -> Void) async -> (GateDecision, String?)
}

extension GateKeeper {
    /// Keepers that never wait for anyone else decide at once.
    public func approve(stage: String, next: String, waiting: @escaping @Sendable () async -> Void) async -> (GateDecision, String?) {
        await approve(stage: stage, next: next)
    }
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
    /// One upgrader per host: each host's own lock (nil: none, as in unit tests of other rules).
    public var hostLocks: (any HostLocking)?
    /// Runs the playbook's hooks (nil: a playbook with hooks cannot run them — refused).
    public var hookRunner: (any HookRunner)?
    /// Posts the playbook's notifications (nil: none are posted).
    public var notifier: (any Notifier)?

    public init(
        playbook: Playbook, hosts: [Host], target: Version, overrides: [String: VarValue] = [:],
        header: RunHeader, become: @escaping @Sendable (Host) -> Become = { _ in Become() },
        extraSecrets: [String] = [], hostLocks: (any HostLocking)? = nil
    ) {
        self.playbook = playbook
        self.hosts = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.target = target
        self.overrides = overrides
        self.header = header
        self.become = become
        self.extraSecrets = extraSecrets
        self.hostLocks = hostLocks
    }
}

/// Runs one playbook hook (a local command) for a point of the run; never throws: a hook
/// that cannot start, times out or exits non-zero comes back as a record saying so.
public protocol HookRunner: Sendable {
    func run(_ hook: HookSpec, context: HookContext) async -> HookRecord
}

/// Posts one notification of a playbook (`notify:`), retrying until its deadline; never
/// throws: what happened comes back as the record (nil: its URL is empty, so it is off).
public protocol Notifier: Sendable {
    func send(_ spec: NotifySpec, context: HookContext) async -> NotifyRecord?
}

/// Shows a run as it goes (the live progress). Called in journal order, under the
/// coordinator's lock, with each entry the journal took and the host counts after it: it
/// must not wait (it writes from a queue of its own).
public protocol RunDisplay: Sendable {
    func show(_ entry: JournalEntry, counts: StatusCounts)
}

/// The journal could not be written (or the coordinator hit a bug): the run stopped.
public struct RunJournalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
