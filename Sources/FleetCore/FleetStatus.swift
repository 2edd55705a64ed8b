/// The fleet as `fleetup status` found it (design.md §6, docs/reports.md): every host's
/// reachability, version, health and the last run that touched it, plus what is derived
/// from them (the version distribution, drift from the target, the hosts that need a look).
/// Collected by `StatusCollector`; rendered by `StatusReports`.
public struct FleetStatus: Sendable, Hashable {
    /// When the collection started (ISO-8601 UTC with milliseconds).
    public var generatedAt: WallTime
    /// How long collecting took.
    public var durationMs: Int
    /// The inventories as given (paths or host lists).
    public var inventories: [String]
    public var limit: String?
    /// The playbook's `name` and file, when one was given.
    public var playbook: String?
    public var playbookFile: String?
    /// The version the fleet should be on (`--target`, else the playbook's); nil without a playbook.
    public var target: String?
    /// `--require-target`: a host off the target (or on an unknown version) fails the status too.
    public var requireTarget: Bool
    /// Where versions come from: the playbook's `version.detect` (`playbook`), `--version-cmd`
    /// (`version-cmd`), or nil (not read).
    public var versionSource: VersionSourceKind?
    /// Stage names in order (the playbook's stages, else the hosts' first groups as they appear).
    public var stages: [String]
    /// By stage, then inventory order.
    public var hosts: [StatusHost]

    public enum VersionSourceKind: String, Sendable, Hashable {
        case playbook
        case versionCommand = "version-cmd"
    }

    public init(
        generatedAt: WallTime, durationMs: Int, inventories: [String], limit: String? = nil, playbook: String? = nil,
        playbookFile: String? = nil, target: String? = nil, requireTarget: Bool = false,
        versionSource: VersionSourceKind? = nil, stages: [String], hosts: [StatusHost]
    ) {
        self.generatedAt = generatedAt
        self.durationMs = durationMs
        self.inventories = inventories
        self.limit = limit
        self.playbook = playbook
        self.playbookFile = playbookFile
        self.target = target
        self.requireTarget = requireTarget
        self.versionSource = versionSource
        self.stages = stages
        self.hosts = hosts
    }
}

/// One host in a status.
public struct StatusHost: Sendable, Hashable {
    public var name: String
    public var stage: String
    /// Connected (handshake, host key, authentication).
    public var reachable: Bool
    /// Why not (`unreachable: 127.0.0.1:2201: connection refused`), or nil.
    public var error: String?
    /// As read from the host; nil when not read.
    public var version: String?
    /// Why there is no version (`unreachable`, `no version command`, the command's failure).
    public var versionProblem: String?
    /// The probes' transcript; nil when there are no probes or they did not run.
    public var health: HealthRecord?
    /// Why the health was not checked (`no health probes`, `not checked: unreachable`).
    public var healthProblem: String?
    public var lastRun: LastRun?

    public init(
        name: String, stage: String, reachable: Bool, error: String? = nil, version: String? = nil,
        versionProblem: String? = nil, health: HealthRecord? = nil, healthProblem: String? = nil, lastRun: LastRun? = nil
    ) {
        self.name = name
        self.stage = stage
        self.reachable = reachable
        self.error = error
        self.version = version
        self.versionProblem = versionProblem
        self.health = health
        self.healthProblem = healthProblem
        self.lastRun = lastRun
    }

    /// nil when there are no probes or they did not run (an unreachable host).
    public var healthy: Bool? { health?.healthy }

    /// In one line: `healthy: 1 consecutive pass`, or the first failing probe with its
    /// verdict and last attempt, or why it was not checked.
    public var healthDetail: String {
        guard let health else { return healthProblem ?? "not checked" }
        if health.healthy {
            return "healthy: " + health.probes.map { "\($0.target) \($0.verdict)" }.joined(separator: "; ")
        }
        guard let bad = health.probes.first(where: { !$0.healthy }) else { return "unhealthy" }
        let last = bad.attempts.last.map { " (last: \($0.detail))" } ?? ""
        return "unhealthy: \(bad.target): \(bad.verdict)\(last)"
    }
}

/// The newest stored run that touched a host.
public struct LastRun: Sendable, Hashable {
    public var runID: String
    public var playbook: String
    public var target: String
    /// When the host finished in that run (else when it started there).
    public var at: WallTime
    /// The host's outcome there (`upgraded`, `failed`…), or `running` when the journal ends mid-host.
    public var outcome: String
    public var message: String?

    public init(runID: String, playbook: String, target: String, at: WallTime, outcome: String, message: String? = nil) {
        self.runID = runID
        self.playbook = playbook
        self.target = target
        self.at = at
        self.outcome = outcome
        self.message = message
    }

    /// For every host of `names`, the newest run of `records` (newest first) in which it
    /// was started: its outcome is neither `skipped-after-halt` nor pending. Runs are matched
    /// by host name alone, whichever playbook they ran.
    public static func find(for names: [String], in records: [RunRecord]) -> [String: LastRun] {
        var out: [String: LastRun] = [:]
        let wanted = Set(names)
        for r in records {
            for h in r.hosts where wanted.contains(h.host) && out[h.host] == nil {
                let outcome: String
                if let o = h.outcome {
                    guard o != .skippedAfterHalt else { continue }
                    outcome = o.rawValue
                } else {
                    guard h.state == .running else { continue }
                    outcome = "running"
                }
                out[h.host] = LastRun(
                    runID: r.header.id, playbook: r.header.playbook, target: r.header.target,
                    at: h.finishedAt ?? h.startedAt ?? r.startedAt, outcome: outcome, message: h.result?.message)
            }
            if out.count == wanted.count { break }
        }
        return out
    }
}

/// Where a host stands against the target.
public enum Drift: String, Sendable, Hashable, CaseIterable {
    case onTarget = "on-target"
    case behind
    case ahead
    /// No version was read, or it is not a version.
    case unknown
}

/// Hosts on one version (nil: unknown).
public struct VersionCount: Sendable, Hashable {
    public var version: String?
    public var hosts: [String]
    public init(version: String?, hosts: [String]) {
        self.version = version
        self.hosts = hosts
    }
}

extension FleetStatus {
    public func hosts(stage: String) -> [StatusHost] { hosts.filter { $0.stage == stage } }

    /// Hosts per version, oldest version first (as versions compare, `5.9.0` before
    /// `5.10.0`; equal versions written differently are one), unknown last; of one stage, or of all.
    public func distribution(stage: String? = nil) -> [VersionCount] {
        let pool = stage.map(hosts(stage:)) ?? hosts
        var buckets: [(Version?, String?, [String])] = []
        for h in pool {
            // Versions group by precedence (the first spelling names the group), other texts by text.
            let v = h.version.flatMap(Version.init)
            if let i = buckets.firstIndex(where: { b in v != nil ? b.0 == v : (b.0 == nil && b.1 == h.version) }) {
                buckets[i].2.append(h.name)
            } else {
                buckets.append((v, h.version, [h.name]))
            }
        }
        // Texts that are not versions sort after the versions, by text; unknown last of all.
        buckets.sort { a, b in
            switch (a.0, b.0) {
            case let (x?, y?): return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil):
                switch (a.1, b.1) {
                case let (x?, y?): return x < y
                case (.some, nil): return true
                default: return false
                }
            }
        }
        return buckets.map { VersionCount(version: $0.1, hosts: $0.2) }
    }

    /// The host against the target; nil without a target.
    public func drift(_ host: StatusHost) -> Drift? {
        guard let t = target.flatMap(Version.init) else { return nil }
        guard let v = host.version.flatMap(Version.init) else { return .unknown }
        return v == t ? .onTarget : (v < t ? .behind : .ahead)
    }

    /// Hosts not on the target (behind, ahead, unknown); empty without a target.
    public var offTarget: [StatusHost] { hosts.filter { drift($0).map { $0 != .onTarget } ?? false } }

    public var unreachable: [StatusHost] { hosts.filter { !$0.reachable } }

    /// Reachable hosts whose probes failed.
    public var unhealthy: [StatusHost] { hosts.filter { $0.reachable && $0.healthy == false } }

    /// Why a host fails the status, in order: `unreachable`, `unhealthy`, and with
    /// `requireTarget` `off-target`. Empty: it passes.
    public func problems(_ host: StatusHost) -> [String] {
        var out: [String] = []
        if !host.reachable { out.append("unreachable") }
        if host.reachable && host.healthy == false { out.append("unhealthy") }
        if requireTarget, let d = drift(host), d != .onTarget { out.append("off-target") }
        return out
    }

    /// Every host reachable and healthy (and on the target when it is required): exit 0.
    public var passes: Bool { hosts.allSatisfy { problems($0).isEmpty } }
}
