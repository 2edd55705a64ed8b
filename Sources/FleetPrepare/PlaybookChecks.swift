import FleetConfig
import FleetCore
import FleetRollout

/// The checks of a playbook that need the planner (FleetConfig's `PlaybookCheck` has the
/// others): the target among the releases, `--var` against the run facts, every release
/// path of every host.
public enum PlaybookChecks {
    /// `--target` as one of the playbook's releases, else the playbook's default target.
    public static func target(_ target: String?, _ book: Playbook) throws -> Version {
        let releases = book.releases.map(\.version.text).joined(separator: ", ")
        if let t = target {
            guard let v = Version(t) else {
                throw ConfigError(file: "--target", "\"\(t)\" is not a version (expected x.y.z)")
            }
            guard let r = book.release(v) else {
                throw ConfigError(file: "--target", "\(t) is not one of the playbook's releases (\(releases))")
            }
            return r.version
        }
        guard let v = book.defaultTarget else { throw ConfigError(file: book.file, "no target: set version.target or give --target") }
        return v
    }

    /// `rolling.spread` that no batching of a stage can keep (or a host with two keys):
    /// bad input, with the numbers (`SpreadPlanner`).
    public static func spread(_ book: Playbook, stages: [StageHosts]) -> [ConfigError] {
        guard book.rolling.spread != nil else { return [] }
        return stages.compactMap { stage in
            SpreadPlanner.batches(hosts: stage.hosts, policy: book.rolling, stage: stage.name).problem.map {
                ConfigError(file: book.file, line: book.lines["rolling.spread"], "rolling.\($0)")
            }
        }
    }

    /// A `--var` named after a run fact is bad input: fleetup sets those.
    public static func facts(_ overrides: [String: VarValue]) throws {
        for name in overrides.keys.sorted() where TemplateScope.factNames.contains(name) {
            throw ConfigError(
                file: "--var", "\"\(name)\" is a run fact (\(TemplateScope.factNames.joined(separator: ", "))): fleetup sets it")
        }
    }

    /// Plans every host from the oldest release to the newest, so that what only a path
    /// reveals (releases ordering the same steps differently, a `when:` on a flag) is
    /// found now, whatever versions the hosts are on.
    public static func paths(_ book: Playbook, hosts: [Host], target: Version, overrides: [String: VarValue]) -> [ConfigError] {
        guard let first = book.releases.first?.version, let last = book.releases.last?.version, first != last else { return [] }
        var seen: [String: [String]] = [:]
        var order: [(Int?, String)] = []
        for host in hosts {
            let scope = RolloutPlanner.scope(for: host, playbook: book, target: target, overrides: overrides)
            do {
                _ = try UpgradePathPlanner.path(from: first, to: last, playbook: book, scope: scope)
            } catch {
                let key = "\(error.line ?? 0)\u{0}\(error.message)"
                if seen[key] == nil { order.append((error.line, error.message)) }
                seen[key, default: []].append(host.name)
            }
        }
        return order.map { line, message in
            let names = seen["\(line ?? 0)\u{0}\(message)"]!
            let whose =
                names.count == hosts.count && hosts.count > 1
                ? "on all \(hosts.count) hosts" : "on \(names.count == 1 ? "host" : "hosts") \(names.prefix(5).joined(separator: ", "))"
            return ConfigError(file: book.file, line: line, "\(message) (\(whose))")
        }
    }
}
