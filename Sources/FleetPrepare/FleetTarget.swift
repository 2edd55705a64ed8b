import FleetConfig
import FleetCore
import FleetStore
import FleetVault

/// Which fleet a playbook with its inventories is, and which host keeps its remote lock:
/// what `fleetup run`, `resume` and `lock` must agree on.
///
/// From the plan of the WHOLE inventory, never narrowed by `--limit`, so that runs of one
/// fleet with different limits use the same key and lock host. Only the playbook's hosts
/// and stages are read, not its templates: a lock can be inspected and released even while
/// the playbook has errors.
public struct FleetTarget: Sendable {
    public var key: FleetKey
    /// The host that keeps the remote lock (`LockHost.choose`); nil when the plan has no hosts.
    public var lockHost: Host?
    /// Every host of the plan: each has its own host lock.
    public var hosts: [Host]

    /// The fleet of a playbook and inventories already loaded (`label`: the files as given).
    public init(playbook: Playbook, inventory: Inventory, label: String) throws {
        hosts = try PlaybookCheck.stages(playbook, inventory: inventory, limit: nil).flatMap(\.hosts)
        do {
            lockHost = try LockHost.choose(planned: hosts, inventory: inventory)
        } catch let error as LockError {
            throw ConfigError(file: label, "\(error)")
        }
        key = FleetKey(hosts: hosts, label: label)
    }

    /// Loads the playbook and the inventories (only what the fleet needs); their warnings
    /// are returned beside it.
    public static func resolve(
        playbook path: String, inventories: [String], vault: VaultKeyring? = nil
    ) throws -> (FleetTarget, [ConfigWarning]) {
        var warnings: [ConfigWarning] = []
        let book = try PlaybookLoader.load(path, warnings: &warnings)
        let inventory = try InventoryLoader.load(inventories, vault: vault, warnings: &warnings)
        let fleet = try FleetTarget(playbook: book, inventory: inventory, label: FleetKey.label(playbook: path, inventories: inventories))
        return (fleet, warnings)
    }

    /// The fleet's lock in `store`, remote part through `executor` when there is a lock host.
    public func lock(store: RunStore, executor: (any RemoteExecutor)?) -> FleetLock {
        guard let lockHost, let executor else { return FleetLock(store: store, key: key) }
        return FleetLock(store: store, key: key, remote: RemoteLock(host: lockHost, key: key, executor: executor))
    }

    /// The hosts a run talks to: `hosts` and the lock host, once each.
    public func reaching(_ hosts: [Host]) -> [Host] {
        guard let lockHost, !hosts.contains(where: { $0.name == lockHost.name }) else { return hosts }
        return hosts + [lockHost]
    }
}

extension RunInputs {
    /// The fleet these inputs belong to (from the files already loaded).
    public func fleet() throws -> FleetTarget {
        try FleetTarget(
            playbook: playbook, inventory: inventory,
            label: FleetKey.label(playbook: request.playbook, inventories: request.inventories))
    }
}
