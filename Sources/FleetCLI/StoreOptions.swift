import ArgumentParser
import FleetConfig
import FleetCore
import FleetStore
import Foundation

/// `--state-dir`: where runs and locks are kept (shared by `lock`, `run`, `resume`, `runs`).
struct StoreOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Folder of runs and locks (default: $FLEETUP_STATE_DIR, else $XDG_STATE_HOME/fleetup, else ~/.local/state/fleetup).",
            valueName: "DIR"))
    var stateDir: String?

    var store: RunStore { RunStore.resolve(stateDir: stateDir) }
}
