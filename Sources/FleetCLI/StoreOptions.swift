import ArgumentParser
import FleetConfig
import FleetCore
import FleetPostgres
import FleetPrepare
import FleetSSH
import FleetStore
import Foundation

/// `--state-dir` / `--store`: where runs and locks are kept (shared by `lock`, `run`,
/// `resume`, `runs`, `report`, `status`, `plan`). The state folder by default; a team's
/// PostgreSQL with `--store URL` or `$FLEETUP_STORE` (docs/store.md).
struct StoreOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Folder of runs and locks (default: $FLEETUP_STATE_DIR, else $XDG_STATE_HOME/fleetup, else ~/.local/state/fleetup).",
            valueName: "DIR"))
    var stateDir: String?

    @Option(
        name: .customLong("store"),
        help: ArgumentHelp(
            "A team's PostgreSQL store instead of the state folder, postgres://[USER[:PASSWORD]@]HOST[:PORT]/DB (default: $FLEETUP_STORE; docs/store.md).",
            valueName: "URL"))
    var storeURL: String?

    var store: RunStore { RunStore.resolve(stateDir: stateDir) }

    /// The PostgreSQL store when one is given (the flag, else FLEETUP_STORE unless
    /// --state-dir is given), nil for the state folder.
    func postgres() throws -> PostgresURL? {
        let text = storeURL ?? (stateDir == nil ? ProcessInfo.processInfo.environment["FLEETUP_STORE"] : nil)
        guard let text, !text.isEmpty else { return nil }
        do { return try PostgresURL(text) } catch { throw ValidationError("--store: \(error.description)") }
    }

    func validate() throws {
        if storeURL != nil && stateDir != nil {
            throw ValidationError("--store and --state-dir name two places for the runs: give one")
        }
        _ = try postgres()
    }

    /// A new run's place: a new run folder, or a new id in the store (checked for its schema).
    func newRun(fleet: FleetTarget, executor: SSHExecutor) async throws -> any RunPlace {
        guard let url = try postgres() else {
            return FolderPlace(folder: try store.create(), lock: fleet.lock(store: store, executor: executor))
        }
        try await PGConnection.with(url) { try await StoreSchema.check($0) }
        let id = RunID(date: Date(), random: UInt16.random(in: 0...UInt16.max))
        return StorePlace(url: url, runID: id.text, key: fleet.key, resumed: false)
    }

    /// The run `name` names (`latest`, an id, or a prefix only it has), read and folded.
    func load(_ name: String, resuming: Bool = false) async throws -> LoadedRun {
        guard let url = try postgres() else {
            let folder = try store.run(named: name)
            let stored = try folder.load()
            return LoadedRun(
                id: folder.id.text, entries: stored.entries, record: stored.record, gaps: stored.gaps,
                droppedTornLine: stored.droppedTornLine, journalText: folder.journal, location: .folder(folder))
        }
        return try await PGConnection.with(url) { db in
            try await StoreSchema.check(db)
            let runs = PostgresRuns(db)
            let ids = try await runs.list()
            let id = try Self.pick(name, from: ids, place: url.description)
            let (entries, record) = try await runs.load(id)
            let source = "\(url) run \(id) journal"
            return LoadedRun(
                id: id, entries: entries, record: record, gaps: try JournalGaps.find(entries, path: source),
                droppedTornLine: false, journalText: source, location: .store(url))
        }
    }

    /// The ids of the stored runs, newest first.
    func runIDs() async throws -> [String] {
        guard let url = try postgres() else { return try store.list().map(\.id.text) }
        return try await PGConnection.with(url) { db in
            try await StoreSchema.check(db)
            return try await PostgresRuns(db).list()
        }
    }

    /// `latest`, an exact id, or a prefix only one id has.
    static func pick(_ name: String, from ids: [String], place: String) throws -> String {
        if name == "latest" {
            guard let first = ids.first else { throw StoreError(.runNotFound, path: place, "there are no runs yet") }
            return first
        }
        if ids.contains(name) { return name }
        let matches = name.isEmpty ? [] : ids.filter { $0.hasPrefix(name) }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            let known = ids.isEmpty ? "there are no runs yet" : "the newest are " + ids.prefix(5).joined(separator: ", ")
            throw StoreError(.runNotFound, path: place, "no run \"\(name)\" (\(known))")
        }
        throw StoreError(
            .ambiguousRun, path: place,
            "\"\(name)\" matches \(matches.count) runs: \(matches.prefix(10).joined(separator: ", ")); give more of the id")
    }
}

/// A stored run read back, from either store.
struct LoadedRun: Sendable {
    enum Location: Sendable {
        case folder(RunFolder)
        case store(PostgresURL)
    }

    var id: String
    var entries: [JournalEntry]
    var record: RunRecord
    var gaps: [JournalGap]
    var droppedTornLine: Bool
    /// Where its journal is, for messages.
    var journalText: String
    var location: Location

    /// Where the run goes on (a resume): its folder with the fleet's lock, or its row in the store.
    func place(_ fleet: FleetTarget, _ executor: SSHExecutor, folders: RunStore) -> any RunPlace {
        switch location {
        case .folder(let folder): return FolderPlace(folder: folder, lock: fleet.lock(store: folders, executor: executor))
        case .store(let url): return StorePlace(url: url, runID: id, key: fleet.key, resumed: true)
        }
    }
}
