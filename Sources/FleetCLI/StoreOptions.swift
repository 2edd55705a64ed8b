import ArgumentParser
import FleetConfig
import FleetCore
import FleetStore
import Foundation

/// `--state-dir`: where runs and locks are kept (shared by `lock`, `run`, `resume`, `runs`).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"),
            help: ArgumentHelp("Folder of runs and locks (default: $FLEETUP_STATE_DIR, else $XDG_STATE_HOME/fleetup, else ~/.local/state/fleetup).",
                               valueName: "DIR"))
    var stateDir: String?

    var store: RunStore { RunStore.resolve(stateDir: stateDir) }
}

/// Which fleet a playbook and its inventories are, and which host keeps its remote lock:
/// what `fleetup run` and `fleetup lock` must agree on.
struct FleetLockTarget {
    var key: FleetKey
    /// The host that keeps the remote lock (`LockHost.choose`); nil when the plan has no hosts.
    var lockHost: FleetCore.Host?
    /// Every host of the plan (the whole inventory's): each has its own host lock.
    var hosts: [FleetCore.Host] = []

    /// The key from the hosts of the plan of the WHOLE inventory; the lock host from that plan
    /// (never narrowed by `--limit`, so that runs of one fleet with different limits pick
    /// the same lock host). Only the playbook's hosts and stages are read, not its templates:
    /// a lock can be inspected and released even while the playbook has errors.
    static func resolve(playbook path: String, inventories: [String]) throws -> FleetLockTarget {
        var warnings: [ConfigWarning] = []
        let book = try PlaybookLoader.load(path, warnings: &warnings)
        let inventory = try InventoryLoader.load(inventories, warnings: &warnings)
        if !warnings.isEmpty {
            FileHandle.standardError.write(Data(warnings.map { "fleetup: warning: \($0)\n" }.joined().utf8))
        }
        let planned = try PlaybookCheck.stages(book, inventory: inventory, limit: nil).flatMap(\.hosts)
        let lockHost: FleetCore.Host?
        do {
            lockHost = try LockHost.choose(planned: planned, inventory: inventory)
        } catch let error as LockError {
            throw ConfigError(file: inventories.joined(separator: ", "), "\(error)")
        }
        return FleetLockTarget(key: FleetKey(hosts: planned, label: FleetKey.label(playbook: path, inventories: inventories)),
                               lockHost: lockHost, hosts: planned)
    }

    /// The fleet's lock in `store`, remote part through `executor` when there is a lock host.
    func lock(store: RunStore, executor: (any RemoteExecutor)?) -> FleetLock {
        guard let lockHost, let executor else { return FleetLock(store: store, key: key) }
        return FleetLock(store: store, key: key, remote: RemoteLock(host: lockHost, key: key, executor: executor))
    }
}
