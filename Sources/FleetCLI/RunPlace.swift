import FleetCore
import FleetPostgres
import FleetStore
import Foundation
import Synchronization

/// Where a run lives (docs/store.md): its journal, its reports and its fleet's lock — the
/// state folder of this machine, or a team's shared PostgreSQL store.
protocol RunPlace: Sendable {
    var runID: String { get }
    /// The fleet whose lock the run holds.
    var key: FleetKey { get }
    /// Where `fleetup approve` leaves the approvals of its gates.
    var approvals: any ApprovalSource { get }
    /// Takes the fleet's lock and whatever the journal needs (the folder's reserve, the
    /// store's run row); notes to print. Refused, it leaves nothing behind.
    func open(_ owner: LockOwner, header: RunHeader) async throws -> [String]
    /// The coordinator's sink, after `open`; `closeJournal` closes it.
    func journal(lastSeq: Int) async throws -> any RunEventSink
    func closeJournal() async
    /// Gives the reserve and the lock back (whatever happened).
    func close(_ owner: LockOwner) async
    /// Keeps the run's reports; nil when kept, else why not (the journal has everything).
    func saveReports(_ files: [(name: String, bytes: [UInt8])]) async -> String?
    /// Where the journal and the reports are, for the summary.
    var journalText: String { get }
    var reportsText: String { get }
}

/// A run in the state folder: journal.jsonl with its reserve, the reports beside it, the
/// fleet's lock here and on the lock host.
final class FolderPlace: RunPlace {
    let folder: RunFolder
    let lock: FleetLock
    private let state = Mutex<(reserve: JournalReserve?, journal: GroupCommitJournal?)>((nil, nil))

    init(folder: RunFolder, lock: FleetLock) {
        self.folder = folder
        self.lock = lock
    }

    var runID: String { folder.id.text }
    var key: FleetKey { lock.key }
    var approvals: any ApprovalSource { FolderApprovals(folder: folder) }
    var journalText: String { folder.journal }
    var reportsText: String { "\(folder.htmlReport) (and report.md, report.junit.xml, run.json)" }

    func open(_ owner: LockOwner, header: RunHeader) async throws -> [String] {
        do {
            let reserve = try JournalReserve(path: folder.path + "/journal.reserve", bytes: JournalReserve.size(forks: header.forks))
            do {
                let notes = try await lock.acquire(owner)
                state.withLock { $0.reserve = reserve }
                return notes
            } catch {
                _ = reserve.free()
                throw error
            }
        } catch {
            // A run refused before it began (the lock is held, no room for the journal)
            // leaves no empty run folder behind: `fleetup resume` (the latest run) would pick
            // it and fail on its missing journal. A resumed run's folder has its journal and stays.
            if !FileManager.default.fileExists(atPath: folder.journal) { try? FileManager.default.removeItem(atPath: folder.path) }
            throw error
        }
    }

    func journal(lastSeq: Int) async throws -> any RunEventSink {
        let journal = GroupCommitJournal(try JournalWriter(path: folder.journal, reserve: state.withLock { $0.reserve }))
        state.withLock { $0.journal = journal }
        return journal
    }

    func closeJournal() async {
        state.withLock { s -> GroupCommitJournal? in
            defer { s.journal = nil }; return s.journal
        }?.close()
    }

    func close(_ owner: LockOwner) async {
        _ = state.withLock { s -> JournalReserve? in
            defer { s.reserve = nil }; return s.reserve
        }?.free()
        await RunPlaces.warnIfFails("the fleet's lock was not released") { try await lock.release(owner.runID) }
    }

    func saveReports(_ files: [(name: String, bytes: [UInt8])]) async -> String? {
        await RunPlaces.problem { try StoreFile.write(files, into: folder.path) }
    }
}

/// A run in a shared PostgreSQL store: its row, its journal (group commit), its reports and
/// the fleet's lock (a session advisory lock), each on a connection of its own.
final class StorePlace: RunPlace {
    let url: PostgresURL
    let runID: String
    let lock: PostgresFleetLock
    /// A resumed run's row already exists.
    let resumed: Bool
    private let journalState = Mutex<PostgresJournal?>(nil)
    private let ownerState = Mutex<LockOwner?>(nil)

    init(url: PostgresURL, runID: String, key: FleetKey, resumed: Bool) {
        self.url = url
        self.runID = runID
        self.lock = PostgresFleetLock(url: url, key: key)
        self.resumed = resumed
    }

    var key: FleetKey { lock.key }
    var approvals: any ApprovalSource { StoreApprovals(url: url) }
    var journalText: String { "\(url), run \(runID)" }
    var reportsText: String { "in the store (`fleetup report \(runID) --store URL` writes them out)" }

    func open(_ owner: LockOwner, header: RunHeader) async throws -> [String] {
        let notes = try await lock.acquire(owner)
        ownerState.withLock { $0 = owner }
        guard !resumed else { return notes }
        do {
            try await PGConnection.with(url) { db in try await PostgresRuns(db).create(header, at: .now) }
        } catch {
            try? await lock.release(owner.runID)
            throw error
        }
        return notes
    }

    func journal(lastSeq: Int) async throws -> any RunEventSink {
        let db = try await PGConnection.connect(url)
        // The store gone for a while: no host goes on until it is back (a minute at most).
        let lock = self.lock
        let owner = ownerState.withLock { $0 }
        let journal = PostgresJournal(
            db, runID: runID, lastSeq: lastSeq,
            reconnect: .init(
                url: url, limit: Self.outage,
                note: { note in FileHandle.standardError.write(Data("fleetup: \(note)\n".utf8)) },
                // The lock's session went with the store: taken again before anything goes on.
                restored: { if let owner { try await lock.reacquire(owner) } }))
        journalState.withLock { $0 = journal }
        return journal
    }

    /// How long a run waits for the store to come back before it stops (FLEETUP_STORE_OUTAGE
    /// in seconds, for tests and operators; default 60).
    static var outage: Duration {
        .seconds(Int(ProcessInfo.processInfo.environment["FLEETUP_STORE_OUTAGE"] ?? "") ?? 60)
    }

    func closeJournal() async {
        await journalState.withLock { s -> PostgresJournal? in
            defer { s = nil }
            return s
        }?.db.close()
    }

    func close(_ owner: LockOwner) async {
        await RunPlaces.warnIfFails("the fleet's lock was not released") { try await lock.release(owner.runID) }
    }

    func saveReports(_ files: [(name: String, bytes: [UInt8])]) async -> String? {
        await RunPlaces.problem { try await PGConnection.with(url) { db in try await PostgresRuns(db).saveReports(self.runID, files) } }
    }
}

/// What both places do alike.
enum RunPlaces {
    /// `body`, a failure said as a warning on stderr (the run's outcome stands).
    static func warnIfFails(_ what: String, _ body: () async throws -> Void) async {
        do { try await body() } catch { FileHandle.standardError.write(Data("fleetup: warning: \(what): \(error)\n".utf8)) }
    }

    /// nil when `body` succeeded, else its error as text.
    static func problem(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch {
            return "\(error)"
        }
    }
}
