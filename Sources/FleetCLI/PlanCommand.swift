import ArgumentParser
import FleetConfig
import FleetCore
import FleetReports
import FleetRollout
import FleetSSH
import Foundation

/// `fleetup plan PLAYBOOK -i INV [--target V] [--detect] [--json]`: the dry run.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what an upgrade would do: stages, batches, each host's path and the exact steps.",
        discussion: """
            Changes nothing. Versions come from the inventory's current_version variables, or \
            with --detect from the hosts themselves (the playbook's version command, over SSH). \
            The playbook and inventory are checked first, as `fleetup check` does. Exit status: \
            0 when every host has a plan, 1 when some host cannot be planned (a version that is \
            not a release, ahead of the target, unreadable), 2 for bad input.
            """)

    @OptionGroup var playbook: PlaybookOptions
    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Read each host's version over SSH with the playbook's version command.")
    var detect = false

    @Option(help: ArgumentHelp("With --detect: seconds the version command may take on a host.", valueName: "S"))
    var timeout: Double = 30

    @Flag(help: "Print one JSON object (fleetup.plan/1) on stdout instead of text.")
    var json = false

    func validate() throws {
        try validateSeconds(timeout, "--timeout")
    }

    func run() async throws {
        let checked = try playbook.check(inventory)
        var versions = RolloutPlanner.inventoryVersions(checked.hosts)
        if detect {
            // Every host resolved now (inventory vars, ssh_config, jump hops): a problem is bad
            // input before any connection, as for exec.
            let ssh = try connection.sshConfiguration(for: checked.hosts, inventory: inventory.inventories.joined(separator: ", "))
            let executor = try SSHExecutor(ssh)
            let (book, hosts, target, overrides, forks, limit) = (checked.playbook, checked.hosts, checked.target, checked.overrides,
                                                                  connection.forks, duration(seconds: timeout))
            let work = Task {
                await VersionDetector.detect(hosts, playbook: book, target: target, overrides: overrides,
                                             executor: executor, forks: forks, timeout: limit)
            }
            let interrupts = Interrupts.install(onFirst: { work.cancel() })
            versions = await work.value
            interrupts.cancel()
            await executor.shutdown()
        }
        let plan = RolloutPlanner.plan(checked.playbook, stages: checked.stages, target: checked.target,
                                       targetFromCommandLine: playbook.target != nil, versions: versions,
                                       versionSource: detect ? .detected : .inventory, overrides: checked.overrides,
                                       limit: inventory.limit)
        let text = json ? PlanReport.json(plan) : PlanReport.text(plan)
        FileHandle.standardOutput.write(Data(text.utf8))
        if !plan.isClean { throw ExitCode(1) }
    }
}

/// The playbook argument, `--target` and `--var`: shared by `check`, `plan` (and `run`).
struct PlaybookOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The playbook file (YAML).", valueName: "playbook"))
    var path: String

    @Option(help: ArgumentHelp("The version to upgrade to (default: the playbook's version.target).", valueName: "V"))
    var target: String?

    @Option(name: .customLong("var"), help: ArgumentHelp("A variable, overriding the inventory and the playbook (repeatable).", valueName: "K=V"))
    var vars: [String] = []

    func validate() throws { try Self.validate(vars: vars) }

    static func validate(vars: [String]) throws {
        for v in vars {
            guard let eq = v.firstIndex(of: "="), Template.isName(String(v[..<eq])) else {
                throw ValidationError("--var \(v): expected NAME=VALUE (a variable name, then =)")
            }
        }
    }

    /// `--var` values (as text, as Ansible's `-e k=v`).
    var overrides: [String: VarValue] { Self.overrides(vars) }

    static func overrides(_ vars: [String]) -> [String: VarValue] {
        var out: [String: VarValue] = [:]
        for v in vars {
            let eq = v.firstIndex(of: "=")!
            out[String(v[..<eq])] = .string(String(v[v.index(after: eq)...]))
        }
        return out
    }

    /// A `--var` named after a run fact is bad input: fleetup sets those.
    static func checkFacts(_ overrides: [String: VarValue]) throws {
        for name in overrides.keys.sorted() where TemplateScope.factNames.contains(name) {
            throw ConfigError(file: "--var", "\"\(name)\" is a run fact (\(TemplateScope.factNames.joined(separator: ", "))): fleetup sets it")
        }
    }

    /// A playbook checked against the inventory: its stages, hosts and target.
    struct Checked {
        var playbook: Playbook
        var inventory: Inventory
        var stages: [StageHosts]
        var hosts: [FleetCore.Host]
        var target: Version
        var overrides: [String: VarValue]
    }

    /// Loads and checks everything `check` checks; bad input throws (exit 2), warnings go to stderr.
    func check(_ inventoryOptions: InventoryOptions) throws -> Checked {
        var warnings: [ConfigWarning] = []
        let book = try PlaybookLoader.load(path, warnings: &warnings)
        let inv = try inventoryOptions.loadPrintingWarnings()
        guard !inv.hosts.isEmpty else {
            throw ConfigError(file: inventoryOptions.inventories.joined(separator: ", "), "the inventory has no hosts")
        }
        let target = try resolveTarget(book)
        let overrides = self.overrides
        try Self.checkFacts(overrides)
        let stages = try PlaybookCheck.stages(book, inventory: inv, limit: inventoryOptions.limit)
            .map { StageHosts(name: $0.name, hosts: $0.hosts) }
        let hosts = stages.flatMap(\.hosts)
        var errors = PlaybookCheck.templates(book, hosts: hosts, target: target, overrides: overrides)
        if errors.isEmpty { errors = Self.pathProblems(book, hosts: hosts, target: target, overrides: overrides) }
        warnings += PlaybookCheck.missingUploads(book, hosts: hosts, target: target, overrides: overrides)
        if !warnings.isEmpty {
            FileHandle.standardError.write(Data(warnings.map { "fleetup: warning: \($0)\n" }.joined().utf8))
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return Checked(playbook: book, inventory: inv, stages: stages, hosts: hosts, target: target, overrides: overrides)
    }

    func resolveTarget(_ book: Playbook) throws -> Version { try Self.resolveTarget(target, book) }

    /// `--target` as one of the playbook's releases, else the playbook's default target.
    static func resolveTarget(_ target: String?, _ book: Playbook) throws -> Version {
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

    /// Plans every host from the oldest release to the newest, so that what only a path
    /// reveals (releases ordering the same steps differently, a `when:` on a flag) is
    /// found now, whatever versions the hosts are on.
    static func pathProblems(_ book: Playbook, hosts: [FleetCore.Host], target: Version,
                             overrides: [String: VarValue]) -> [ConfigError] {
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
            let whose = names.count == hosts.count && hosts.count > 1 ? "on all \(hosts.count) hosts" : "on \(names.count == 1 ? "host" : "hosts") \(names.prefix(5).joined(separator: ", "))"
            return ConfigError(file: book.file, line: line, "\(message) (\(whose))")
        }
    }
}
