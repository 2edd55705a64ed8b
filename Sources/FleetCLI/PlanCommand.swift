import ArgumentParser
import FleetConfig
import FleetCore
import FleetPrepare
import FleetReports
import FleetRollout
import FleetSSH
import FleetStore
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
            not a release, ahead of the target, unreadable), 2 for bad input. Hosts an earlier \
            run left mid-upgrade (in the state folder's 20 newest runs) are named on stderr, with \
            the resume that goes on with them.
            """)

    @OptionGroup var playbook: PlaybookOptions
    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Read each host's version over SSH with the playbook's version command.")
    var detect = false

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("With --detect: seconds the version command may take on a host.", valueName: "S"))
    var timeout: Double = 30

    @Flag(help: "Print one JSON object (fleetup.plan/1) on stdout instead of text.")
    var json = false

    func validate() throws {
        try validateSeconds(timeout, "--timeout")
    }

    func run() async throws {
        let checked = try playbook.prepare(inventory)
        var versions = RolloutPlanner.inventoryVersions(checked.hosts)
        if detect {
            // Every host resolved now (inventory vars, ssh_config, jump hops): a problem is bad
            // input before any connection, as for exec.
            let ssh = try connection.sshConfiguration(for: checked.hosts, inventory: inventory.inventories.joined(separator: ", "))
            let executor = try SSHExecutor(ssh)
            let (book, hosts, target, overrides, forks, limit) = (
                checked.playbook, checked.hosts, checked.target, checked.overrides,
                connection.forks, duration(seconds: timeout)
            )
            let work = Task {
                await VersionDetector.detect(
                    hosts, playbook: book, target: target, overrides: overrides,
                    executor: executor, forks: forks, timeout: limit)
            }
            let interrupts = Interrupts.install(onFirst: { work.cancel() })
            versions = await work.value
            interrupts.cancel()
            await executor.shutdown()
        }
        let plan = checked.plan(versions: versions, source: detect ? .detected : .inventory)
        let text = json ? PlanReport.json(plan) : PlanReport.text(plan, forks: connection.forks)
        FileHandle.standardOutput.write(Data(text.utf8))
        for line in await Self.leftMidUpgrade(store, hosts: Set(checked.hosts.map(\.name))) {
            FileHandle.standardError.write(Data("fleetup: note: \(line)\n".utf8))
        }
        if !plan.isClean { throw ExitCode(1) }
    }

    /// The most recent runs whose journals `plan` reads for hosts left mid-upgrade.
    static let runsRead = 20

    /// The planned hosts an earlier run of the state folder left mid-upgrade (its newest
    /// `runsRead` runs; a folder that cannot be read says nothing: the plan stands alone).
    static func leftMidUpgrade(_ store: StoreOptions, hosts: Set<String>) async -> [String] {
        guard (try? store.postgres()) ?? nil != nil else { return leftMidUpgrade(store.store, hosts: hosts) }
        var records: [RunRecord] = []
        for id in ((try? await store.runIDs()) ?? []).prefix(runsRead) {
            if let record = try? await store.load(id).record { records.append(record) }
        }
        return ResumePreview.leftMidUpgrade(records, among: hosts)
    }

    static func leftMidUpgrade(_ store: RunStore, hosts: Set<String>) -> [String] {
        let folders = ((try? store.list()) ?? []).prefix(runsRead)
        return ResumePreview.leftMidUpgrade(folders.lazy.compactMap { try? $0.load().record }, among: hosts)
    }
}

/// The playbook argument, `--target` and `--var`: shared by `check`, `plan` (and `run`).
struct PlaybookOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The playbook file (YAML).", valueName: "playbook"))
    var path: String

    @Option(help: ArgumentHelp("The version to upgrade to (default: the playbook's version.target).", valueName: "V"))
    var target: String?

    @Option(
        name: .customLong("var"),
        help: ArgumentHelp("A variable, overriding the inventory and the playbook (repeatable).", valueName: "K=V"))
    var vars: [String] = []

    func validate() throws { try Self.validate(vars: vars) }

    static func validate(vars: [String]) throws { _ = try overrides(vars) }

    /// `--var` values (as text, as Ansible's `-e k=v`); a value without `NAME=` is refused
    /// here, whichever command took it.
    static func overrides(_ vars: [String]) throws(ValidationError) -> [String: VarValue] {
        var out: [String: VarValue] = [:]
        for v in vars {
            guard let eq = v.firstIndex(of: "="), Template.isName(String(v[..<eq])) else {
                throw ValidationError("--var \(v): expected NAME=VALUE (a variable name, then =)")
            }
            out[String(v[..<eq])] = .string(String(v[v.index(after: eq)...]))
        }
        return out
    }

    /// What this command line asks for, as a value.
    func request(_ inventory: InventoryOptions) throws -> RunRequest {
        RunRequest(
            playbook: path, inventories: inventory.inventories, limit: inventory.limit, target: target,
            overrides: try Self.overrides(vars), vault: try inventory.vault.keyring())
    }

    /// Loads and checks everything `check` checks (`RunInputs.prepare`); bad input throws
    /// (exit 2), warnings go to stderr.
    func prepare(_ inventory: InventoryOptions) throws -> RunInputs {
        let inputs = try RunInputs.prepare(try request(inventory))
        RunSession.warn(inputs.warnings)
        return inputs
    }
}
