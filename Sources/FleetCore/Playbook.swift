/// An upgrade playbook as loaded and validated (docs/playbooks.md): which hosts, in which
/// stages, along which release path, running which steps, checked by which probes. Texts
/// are still templates: `UpgradePathPlanner` renders them per host and per hop.
public struct Playbook: Sendable, Hashable {
    public var name: String
    /// The file it was read from, as given (messages and plans name it).
    public var file: String
    /// The inventory pattern of the hosts it upgrades.
    public var hosts: String
    /// Host patterns (usually groups), in order; each stage is a rolling run of its own.
    /// Empty: one stage holding every host.
    public var stages: [String]
    /// Defaults: the inventory and `--var` override them.
    public var vars: [String: VarValue]
    /// Names of variables whose values are never shown (`[REDACTED]`).
    public var secret: Set<String>
    public var version: VersionSpec
    /// Oldest first.
    public var releases: [Release]
    /// Release flags steps may test with `when:` (false unless a release sets them).
    public var flags: [String]
    public var path: PathMode
    public var rolling: RolloutPolicy
    /// Per host and hop, in order; `.releaseSteps` marks where the releases' own steps go.
    public var steps: [StepEntry]
    /// Probes run after every hop; the host is healthy when all of them pass.
    public var health: [HealthProbe]
    /// Run on a host that fails before a `no_return` step has run.
    public var rollback: [Step]
    /// The folder commands run in (a step's own `chdir` wins); nil: the login shell's.
    public var chdir: Template?
    /// Local commands on the run's events (`hooks:`), in order for each point.
    public var hooks: [HookPoint: [HookSpec]]
    /// Webhooks posted to on the run's events (`notify:`).
    public var notify: [NotifySpec]
    /// Lines of top-level keys and of a few nested ones (`version.target`), for messages.
    public var lines: [String: Int]

    public init(
        name: String, file: String, hosts: String, stages: [String] = [], vars: [String: VarValue] = [:],
        secret: Set<String> = [], version: VersionSpec, releases: [Release], flags: [String] = [],
        path: PathMode = .sequential, rolling: RolloutPolicy = RolloutPolicy(), steps: [StepEntry],
        health: [HealthProbe] = [], rollback: [Step] = [], chdir: Template? = nil, hooks: [HookPoint: [HookSpec]] = [:],
        notify: [NotifySpec] = [], lines: [String: Int] = [:]
    ) {
        self.hooks = hooks
        self.notify = notify
        self.name = name
        self.file = file
        self.hosts = hosts
        self.stages = stages
        self.vars = vars
        self.secret = secret
        self.version = version
        self.releases = releases
        self.flags = flags
        self.path = path
        self.rolling = rolling
        self.steps = steps
        self.health = health
        self.rollback = rollback
        self.chdir = chdir
        self.lines = lines
    }

    /// The release equal to `version` (`3.1.2` finds `v3.1.2`).
    public func release(_ version: Version) -> Release? { releases.first { $0.version == version } }

    /// The playbook's default target: `version.target`, else the newest release.
    public var defaultTarget: Version? { version.target ?? releases.last?.version }
}

/// How a host's version is read (`version:`).
public struct VersionSpec: Sendable, Hashable {
    /// The command; its output holds the version.
    public var detect: Template
    /// A regular expression whose first group is the version; nil: the first `x.y.z`.
    public var pattern: String?
    /// The default target (`--target` overrides it).
    public var target: Version?
    public var line: Int?

    public init(detect: Template, pattern: String? = nil, target: Version? = nil, line: Int? = nil) {
        self.detect = detect
        self.pattern = pattern
        self.target = target
        self.line = line
    }
}

/// One release a host can be on or go to.
public struct Release: Sendable, Hashable {
    public var version: Version
    /// Its own instructions (run where `steps:` says `release_steps`).
    public var steps: [Step]
    /// Flags it sets (`restart_streaming: true`); every flag it does not set is false.
    public var flags: [String: Bool]
    /// Must be visited even by a `cumulative` path.
    public var waypoint: Bool
    public var line: Int?

    public init(_ version: Version, steps: [Step] = [], flags: [String: Bool] = [:], waypoint: Bool = false, line: Int? = nil) {
        self.version = version
        self.steps = steps
        self.flags = flags
        self.waypoint = waypoint
        self.line = line
    }
}

/// How a host goes from its version to the target.
public enum PathMode: String, Sendable, Hashable, CaseIterable {
    /// Every release in between, one full hop each (Mattermost).
    case sequential
    /// One hop to the target (or to each waypoint in between), running every skipped
    /// release's steps, each distinct step once (Flow).
    case cumulative
}

/// An entry of `steps:`.
public enum StepEntry: Sendable, Hashable {
    case step(Step)
    /// `- release_steps`: the releases' own steps go here.
    case releaseSteps(line: Int?)
}

/// One step of a hop (or of `rollback`).
public struct Step: Sendable, Hashable {
    /// As written; empty when the playbook gives none (plans then show the command).
    public var name: String
    public var action: StepAction
    /// All must hold for the step to run (a release flag or a variable).
    public var when: [StepCondition]
    /// Run through sudo; nil: as the host's `ansible_become` says.
    public var become: Bool?
    /// The user sudo runs the step as (Ansible's `become_user`; it implies `become`); nil:
    /// the host's (`ansible_become_user`, `--become-user`, root).
    public var becomeUser: Template?
    /// Ends the step (it fails) when reached.
    public var timeout: Duration?
    /// Runs again up to this many times while it fails.
    public var retries: Int
    /// Past this step, going back needs the backups: rollback no longer runs.
    public var noReturn: Bool
    /// The folder the command runs in; nil: the playbook's `chdir`.
    public var chdir: Template?
    public var line: Int?

    public init(
        name: String, action: StepAction, when: [StepCondition] = [], become: Bool? = nil,
        timeout: Duration? = nil, retries: Int = 0, noReturn: Bool = false, chdir: Template? = nil, line: Int? = nil
    ) {
        self.name = name
        self.action = action
        self.when = when
        self.become = become
        self.timeout = timeout
        self.retries = retries
        self.noReturn = noReturn
        self.chdir = chdir
        self.line = line
    }

    /// The name, or the first line of the command (shortened) when it has none.
    public var title: String {
        if !name.isEmpty { return name }
        switch action {
        case .run(let t): return Self.short(t.source)
        case .upload(_, let dest, _): return "upload " + dest.source
        }
    }

    /// A command's first line, at most 60 characters.
    public static func short(_ command: String) -> String {
        let line = command.split(separator: "\n").first.map { String($0).trimmingSpaces() } ?? ""
        return line.count > 60 ? String(line.prefix(57)) + "..." : line
    }
}

/// What a step does.
public enum StepAction: Sendable, Hashable {
    /// A shell command, run by the host's login shell.
    case run(Template)
    /// A local file (relative paths from the playbook's folder) written on the host.
    case upload(source: Template, destination: Template, mode: Int)
}

/// A `when:` test: `flag`, `not flag`, `name == "text"`, `name != "text"`.
public struct StepCondition: Sendable, Hashable, CustomStringConvertible {
    public enum Test: Sendable, Hashable {
        /// The value is true (a boolean, or yes/no, true/false, 1/0 written as text).
        case isTrue
        case equals(String)
        case notEquals(String)
    }

    public var name: String
    public var negated: Bool
    public var test: Test
    /// As written.
    public var source: String

    /// nil when the text is none of the four forms.
    public init?(_ text: String) {
        source = text
        var t = text.trimmingSpaces()
        negated = false
        if t.hasPrefix("not ") {
            negated = true
            t = String(t.dropFirst(4)).trimmingSpaces()
        }
        for (op, make) in [("==", Test.equals), ("!=", Test.notEquals)] {
            guard let r = t.firstRange(of: op) else { continue }
            let lhs = String(t[..<r.lowerBound]).trimmingSpaces()
            var rhs = String(t[r.upperBound...]).trimmingSpaces()
            if rhs.count >= 2, let q = rhs.first, q == "\"" || q == "'", rhs.last == q {
                rhs = String(rhs.dropFirst().dropLast())
            } else if rhs.isEmpty || rhs.contains(" ") || rhs.contains("\"") || rhs.contains("'") {
                return nil
            }
            guard Template.isName(lhs) else { return nil }
            name = lhs
            test = make(rhs)
            return
        }
        guard Template.isName(t) else { return nil }
        name = t
        test = .isTrue
    }

    public var description: String { source }
}
