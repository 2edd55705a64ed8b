import FleetCore

/// What `fleetup status` asks of one host: where it belongs, the version command and the
/// health probes rendered for it, and its secrets (kept out of what comes back).
public struct StatusCheck: Sendable {
    public var host: Host
    public var stage: String
    /// nil: the version is not read (no playbook and no `--version-cmd`).
    public var versionCommand: RemoteCommand?
    /// The playbook's `version.pattern`.
    public var versionPattern: String?
    /// Empty: the health is not checked.
    public var probes: [PlannedProbe]
    /// Why there are no probes, as the report says it.
    public var noProbesReason: String
    public var redactor: Redactor

    public init(
        host: Host, stage: String, versionCommand: RemoteCommand? = nil, versionPattern: String? = nil,
        probes: [PlannedProbe] = [], noProbesReason: String = "no health probes", redactor: Redactor = Redactor()
    ) {
        self.host = host
        self.stage = stage
        self.versionCommand = versionCommand
        self.versionPattern = versionPattern
        self.probes = probes
        self.noProbesReason = noProbesReason
        self.redactor = redactor
    }
}

/// A template of the playbook or of `--version-cmd` that cannot be rendered for some host:
/// bad input, found before any connection.
public struct StatusPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One line each: `host web1: version.detect: unknown variable "install_dri"`.
    public var problems: [String]
    public var line: Int?
    public init(_ problems: [String], line: Int? = nil) {
        self.problems = problems
        self.line = line
    }
    public var description: String { problems.joined(separator: "\n") }
}

/// Turns a playbook (or none) and the selected hosts into one `StatusCheck` per host. Pure.
public enum StatusPlanner {
    /// With a playbook: its stages, its version command (or `versionCommand`, which wins),
    /// its probes, its secrets; templates rendered per host with the fact `target`.
    public static func checks(
        _ playbook: Playbook, stages: [StageHosts], target: Version, overrides: [String: VarValue] = [:],
        versionCommand: Template? = nil,
        versionTimeout: Duration = VersionDetector.defaultTimeout
    ) throws(StatusPlanError) -> [StatusCheck] {
        var out: [StatusCheck] = []
        var problems: [String] = []
        for stage in stages {
            for host in stage.hosts {
                let scope = RolloutPlanner.scope(for: host, playbook: playbook, target: target, overrides: overrides)
                var check = StatusCheck(
                    host: host, stage: stage.name, versionPattern: versionCommand == nil ? playbook.version.pattern : nil,
                    redactor: Redactor(scope: scope))
                do {
                    if let versionCommand {
                        check.versionCommand = try scope.render(versionCommand, as: .shell).command(timeout: versionTimeout)
                    } else {
                        check.versionCommand = try VersionDetector.command(
                            for: host, playbook: playbook, target: target,
                            overrides: overrides, timeout: versionTimeout)
                    }
                } catch let e as TemplateError {
                    problems.append("host \(host.name): --version-cmd: \(e.message)")
                } catch let e as PathError {
                    problems.append("host \(host.name): \(e.message)")
                } catch {
                    problems.append("host \(host.name): \(error)")
                }
                do {
                    check.probes = try HealthPlanner.probes(playbook.health, scope: scope)
                } catch {
                    problems.append("host \(host.name): \(error.message)")
                }
                if playbook.health.isEmpty { check.noProbesReason = "the playbook has no health probes" }
                out.append(check)
            }
        }
        if !problems.isEmpty { throw StatusPlanError(problems) }
        return out
    }

    /// Without a playbook: each host's stage is its first group (`stage(of:in:)`); the
    /// version comes from `versionCommand` when given (rendered with the host's variables),
    /// and there are no probes.
    public static func checks(
        _ hosts: [Host], inventory: Inventory, versionCommand: Template?,
        versionTimeout: Duration = VersionDetector.defaultTimeout
    ) throws(StatusPlanError) -> [StatusCheck] {
        var out: [StatusCheck] = []
        var problems: [String] = []
        for host in hosts {
            let scope = TemplateScope.host(host, defaults: [:])
            var check = StatusCheck(
                host: host, stage: stage(of: host, in: inventory),
                noProbesReason: "no playbook: no health probes", redactor: Redactor(scope: scope))
            if let versionCommand {
                do {
                    check.versionCommand = try scope.render(versionCommand, as: .shell).command(timeout: versionTimeout)
                } catch {
                    problems.append("host \(host.name): --version-cmd: \(error.message)")
                }
            }
            out.append(check)
        }
        if !problems.isEmpty { throw StatusPlanError(problems) }
        return out
    }

    /// The first group, in the order the inventory declares them, that lists the host
    /// itself (not through `children`); `ungrouped` when none does.
    public static func stage(of host: Host, in inventory: Inventory) -> String {
        for name in inventory.groupOrder where name != "all" && name != "ungrouped" {
            if inventory.groups[name]?.hosts.contains(host.name) == true { return name }
        }
        return "ungrouped"
    }

    /// Stage names in the order the checks first name them.
    public static func stages(of checks: [StatusCheck]) -> [String] {
        var seen: Set<String> = []
        return checks.map(\.stage).filter { seen.insert($0).inserted }
    }
}

/// Fills in a `FleetStatus` host by host, `forks` at a time, through any `RemoteExecutor`:
/// connect, read the version, run the probes (time from the injected clock). Each host's
/// connection is closed once it is done. Never throws: every failure is part of the status.
public struct StatusCollector<C: Clock>: Sendable where C.Duration == Duration {
    public let executor: any RemoteExecutor
    public let clock: C
    public let forks: Int
    /// Called as each host is done, in the order they finish (progress on stderr).
    public let onHost: (@Sendable (StatusHost) -> Void)?

    public init(executor: any RemoteExecutor, clock: C, forks: Int, onHost: (@Sendable (StatusHost) -> Void)? = nil) {
        self.executor = executor
        self.clock = clock
        self.forks = forks
        self.onHost = onHost
    }

    /// The hosts' statuses in the order of `checks` (last runs not filled in: that is the
    /// store's part). A host never started because the caller was cancelled is unreachable,
    /// saying so.
    public func collect(_ checks: [StatusCheck]) async -> [StatusHost] {
        let byName = Dictionary(checks.map { ($0.host.name, $0) }, uniquingKeysWith: { first, _ in first })
        let results = await FanOut.map(checks.map(\.host), forks: forks) { host -> StatusHost in
            let s = await self.status(byName[host.name]!)
            await self.executor.disconnect(host)
            self.onHost?(s)
            return s
        }
        return zip(checks, results).map { check, r in
            r
                ?? StatusHost(
                    name: check.host.name, stage: check.stage, reachable: false, error: "not checked: fleetup was interrupted",
                    versionProblem: "not read: fleetup was interrupted", healthProblem: "not checked: fleetup was interrupted")
        }
    }

    func status(_ check: StatusCheck) async -> StatusHost {
        let host = check.host
        var s = StatusHost(name: host.name, stage: check.stage, reachable: false)
        do {
            try Task.checkCancellation()
            _ = try await executor.connect(host)
            s.reachable = true
        } catch let e as RemoteError {
            s.error = check.redactor.redact("\(e.kind.rawValue): \(e.message)")
            s.versionProblem = "not read: unreachable"
            s.healthProblem = "not checked: unreachable"
            return s
        } catch {
            s.error = "not checked: fleetup was interrupted"
            s.versionProblem = "not read: fleetup was interrupted"
            s.healthProblem = "not checked: fleetup was interrupted"
            return s
        }
        if let command = check.versionCommand {
            do {
                switch VersionDetector.version(in: try await executor.run(command, on: host), pattern: check.versionPattern) {
                case .known(let v, _): s.version = v
                case .failed(let why): s.versionProblem = check.redactor.redact(why)
                case .unknown: s.versionProblem = "not read"
                }
            } catch let e as RemoteError {
                s.versionProblem = check.redactor.redact("\(e.kind.rawValue): \(e.message)")
            } catch {
                s.versionProblem = "not read: fleetup was interrupted"
            }
        } else {
            s.versionProblem = "no version command (give a playbook or --version-cmd)"
        }
        if check.probes.isEmpty {
            s.healthProblem = check.noProbesReason
        } else {
            let checker = HealthChecker(executor: executor, clock: clock, redactor: check.redactor)
            s.health = await checker.check(check.probes, on: host, context: "status")
        }
        return s
    }
}
