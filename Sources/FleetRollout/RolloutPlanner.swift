import FleetCore

/// A host's current version as far as the plan knows it.
public enum ObservedVersion: Sendable, Hashable {
    /// Read from the inventory (`current_version`) or from the host (`version.detect`).
    case known(String, VersionSource)
    /// Nothing says yet.
    case unknown
    /// Reading it failed (unreachable, the command failed, no version in its output).
    case failed(String)
}

/// The hosts of one stage, in inventory order.
public struct StageHosts: Sendable, Hashable {
    public var name: String
    public var hosts: [Host]
    public init(name: String, hosts: [Host]) {
        self.name = name
        self.hosts = hosts
    }
}

/// The whole plan: stages, batches with their halt thresholds, and each host's path and
/// steps. Pure: the versions come in (from the inventory, or read over SSH beforehand).
public enum RolloutPlanner {
    /// The inventory variable that tells `plan` a host's version without `--detect`.
    public static let versionVariable = "current_version"

    /// Each host's `current_version`, or unknown.
    public static func inventoryVersions(_ hosts: [Host]) -> [String: ObservedVersion] {
        var out: [String: ObservedVersion] = [:]
        for h in hosts {
            if let v = h.vars[versionVariable]?.scalarText, !v.isEmpty {
                out[h.name] = .known(v, .inventory)
            } else {
                out[h.name] = .unknown
            }
        }
        return out
    }

    /// The scope of one host: playbook defaults < inventory < `--var`, secrets marked, and
    /// the facts `host` and `target`.
    public static func scope(
        for host: Host, playbook: Playbook, target: Version,
        overrides: [String: VarValue] = [:]
    ) -> TemplateScope {
        let text = playbook.release(target)?.version.text ?? target.text
        return TemplateScope.host(
            host, defaults: playbook.vars, overrides: overrides, secret: playbook.secret,
            facts: ["target": text])
    }

    public static func plan(
        _ playbook: Playbook, stages: [StageHosts], target: Version, targetFromCommandLine: Bool = false,
        versions: [String: ObservedVersion], versionSource: VersionSource,
        overrides: [String: VarValue] = [:], limit: String? = nil,
        renderBudget: Int = maxRenderedBytes
    ) -> RolloutPlan {
        let policy = FailurePolicy(playbook.rolling)
        var planned: [PlannedStage] = []
        var hostPlans: [HostPlan] = []
        var rendered = 0
        for stage in stages {
            let cut = SpreadPlanner.batches(hosts: stage.hosts, policy: playbook.rolling, stage: stage.name)
            let batches = cut.batches
            planned.append(
                PlannedStage(
                    name: stage.name,
                    batches: zip(batches, cut.deferred).map {
                        PlannedBatch(hosts: $0.map(\.name), haltAt: policy.haltThreshold(batchSize: $0.count), deferred: $1)
                    }))
            for (b, batch) in batches.enumerated() {
                for host in batch {
                    // Past the budget a host is not planned at all: its commands are not held.
                    guard rendered <= renderBudget else {
                        var skipped = HostPlan(
                            host: host.name, stage: stage.name, batch: b + 1, version: nil, versionSource: .none,
                            outcome: .unknownVersion)
                        skipped.outcome = .error(overBudget(renderBudget))
                        hostPlans.append(skipped)
                        continue
                    }
                    let p = hostPlan(
                        host, stage: stage.name, batch: b + 1, playbook: playbook, target: target,
                        observed: versions[host.name] ?? .unknown, overrides: overrides)
                    rendered += renderedBytes(p)
                    hostPlans.append(p)
                }
            }
        }
        return RolloutPlan(
            playbook: playbook.name, playbookFile: playbook.file, hostsPattern: playbook.hosts, limit: limit,
            target: playbook.release(target)?.version.text ?? target.text,
            targetFromCommandLine: targetFromCommandLine, path: playbook.path, versionSource: versionSource,
            policy: playbook.rolling, stages: planned, hosts: hostPlans)
    }

    /// The most rendered command text a plan holds, over all its hosts: 10,000 hosts with
    /// four hops of a dozen steps take ~130 MB. A template may render 128 KB, so a hostile
    /// playbook could otherwise make each host's plan hold megabytes (2,000 hosts: 1.3 GB).
    public static let maxRenderedBytes = 512 << 20

    static func overBudget(_ budget: Int) -> String {
        "not planned: the plan's commands add up to more than \(budget >> 20) MB over its hosts (the limit; plan fewer hosts with --limit)"
    }

    /// The text a host's plan holds: each command as sent and as shown, and upload paths.
    static func renderedBytes(_ plan: HostPlan) -> Int {
        func size(_ s: PlannedStep) -> Int {
            switch s.action {
            case .run(let c): return c.script.utf8.count + c.display.utf8.count
            case .upload(let u):
                return u.source.utf8.count + u.destination.utf8.count + u.sourceDisplay.utf8.count + u.destinationDisplay.utf8.count
            }
        }
        var total = plan.health.reduce(0) { $0 + $1.target.utf8.count + ($1.logs?.script.utf8.count ?? 0) }
        if case .upgrade(let hops) = plan.outcome {
            for hop in hops { total += (hop.steps + hop.rollback).reduce(0) { $0 + size($1) } }
        }
        return total
    }

    /// One host's plan; problems become an error outcome for this host alone.
    public static func hostPlan(
        _ host: Host, stage: String, batch: Int, playbook: Playbook, target: Version,
        observed: ObservedVersion, overrides: [String: VarValue] = [:]
    ) -> HostPlan {
        let scope = scope(for: host, playbook: playbook, target: target, overrides: overrides)
        var plan = HostPlan(host: host.name, stage: stage, batch: batch, version: nil, versionSource: .none, outcome: .unknownVersion)
        do {
            plan.health = try HealthPlanner.probes(playbook.health, scope: scope)
        } catch {
            plan.outcome = .error(error.message)
            return plan
        }
        switch observed {
        case .unknown:
            return plan
        case .failed(let why):
            plan.versionSource = .detected
            plan.outcome = .error(why)
            return plan
        case .known(let text, let source):
            plan.version = text
            plan.versionSource = source
            guard let current = Version(text) else {
                plan.outcome = .error("\"\(text)\" is not a version (expected x.y.z)")
                return plan
            }
            do {
                let hops = try UpgradePathPlanner.path(from: current, to: target, playbook: playbook, scope: scope)
                plan.outcome = hops.isEmpty ? .alreadyCurrent : .upgrade(hops)
            } catch {
                plan.outcome = .error(error.message)
            }
            return plan
        }
    }
}
