import FleetConfig
import FleetCore
import FleetRollout
import FleetVault

/// What `check`, `plan`, `run` and `resume` ask for: files and the operator's values, as
/// given — values, never argv (a resume builds one from its journal's header).
public struct RunRequest: Sendable, Hashable {
    public var playbook: String
    public var inventories: [String]
    public var limit: String?
    /// `--target`, as written.
    public var target: String?
    /// `--var` values (text, as Ansible's `-e k=v`).
    public var overrides: [String: VarValue]
    /// The vault passwords that open the inventory's encrypted files and values (nil: none given).
    public var vault: VaultKeyring?

    public init(
        playbook: String, inventories: [String], limit: String? = nil, target: String? = nil,
        overrides: [String: VarValue] = [:], vault: VaultKeyring? = nil
    ) {
        self.playbook = playbook
        self.inventories = inventories
        self.limit = limit
        self.target = target
        self.overrides = overrides
        self.vault = vault
    }
}

/// A playbook checked against its inventory — everything `fleetup check` checks — and what
/// a plan or a run starts from: value in (`RunRequest`), value out, files read and nothing
/// else (no connection, no output: `warnings` are the caller's to print).
public struct RunInputs: Sendable {
    public var request: RunRequest
    public var playbook: Playbook
    public var inventory: Inventory
    /// The playbook's stages, narrowed by `--limit`.
    public var stages: [StageHosts]
    /// Every host of those stages, in stage order.
    public var hosts: [Host]
    public var target: Version
    public var warnings: [ConfigWarning]

    public var overrides: [String: VarValue] { request.overrides }

    /// Loads the playbook and the inventories and checks them together: stages, the target,
    /// the `secret:` names, every template for every host, every release path. Every
    /// problem at once (`ConfigErrors`); a single one as `ConfigError`.
    public static func prepare(_ request: RunRequest) throws -> RunInputs {
        var warnings: [ConfigWarning] = []
        let book = try PlaybookLoader.load(request.playbook, warnings: &warnings)
        let inventory = try InventoryLoader.load(request.inventories, vault: request.vault, warnings: &warnings)
        guard !inventory.hosts.isEmpty else {
            throw ConfigError(file: request.inventories.joined(separator: ", "), "the inventory has no hosts")
        }
        let target = try PlaybookChecks.target(request.target, book)
        try PlaybookChecks.facts(request.overrides)
        let stages = try PlaybookCheck.stages(book, inventory: inventory, limit: request.limit)
            .map { StageHosts(name: $0.name, hosts: $0.hosts) }
        let hosts = stages.flatMap(\.hosts)
        var errors =
            PlaybookChecks.spread(book, stages: stages)
            + PlaybookCheck.secretNames(book, inventory: inventory, overrides: request.overrides)
            + PlaybookCheck.templates(book, hosts: hosts, target: target, overrides: request.overrides)
            + PlaybookCheck.hooks(book, target: target, overrides: request.overrides)
        if errors.isEmpty { errors = PlaybookChecks.paths(book, hosts: hosts, target: target, overrides: request.overrides) }
        warnings += PlaybookCheck.missingUploads(book, hosts: hosts, target: target, overrides: request.overrides)
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return RunInputs(
            request: request, playbook: book, inventory: inventory, stages: stages, hosts: hosts, target: target,
            warnings: warnings)
    }

    /// The rollout plan of these inputs, versions as given (`run` reads them live).
    public func plan(versions: [String: ObservedVersion] = [:], source: VersionSource = .detected) -> RolloutPlan {
        RolloutPlanner.plan(
            playbook, stages: stages, target: target, targetFromCommandLine: request.target != nil,
            versions: versions, versionSource: source, overrides: overrides, limit: request.limit)
    }

    /// The hosts of a plan by their inventory names, and the names that are no host any
    /// more (a resume of a run whose inventory changed).
    public func hosts(named names: [String]) -> (found: [Host], missing: [String]) {
        var byName: [String: Host] = [:]
        for h in inventory.hosts where byName[h.name] == nil { byName[h.name] = h }
        return (names.compactMap { byName[$0] }, names.filter { byName[$0] == nil })
    }
}
