import FleetCore
import FleetStore
import Foundation

/// The runs of the PostgreSQL store: a row per run, its journal's lines, read back and
/// folded exactly as the folder store's are (the same bytes, the same `RunRecord`).
public struct PostgresRuns: Sendable {
    public let db: PGConnection

    public init(_ db: PGConnection) { self.db = db }

    /// Records a new run started at `at`; an id already there is refused (ids are never reused).
    public func create(_ header: RunHeader, at: WallTime) async throws {
        let r = try await db.execute(
            "INSERT INTO fleetup_runs (id, started_at, playbook, started_by, machine) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            [header.id, at.iso(milliseconds: true), header.playbook, header.user, header.machine])
        guard r.affected == 1 else {
            throw PGConnection.Failure(message: "run \(header.id) is already in the store \(db.url)", sqlState: nil)
        }
    }

    /// The stored runs' ids, newest first.
    public func list() async throws -> [String] {
        try await db.execute("SELECT id FROM fleetup_runs ORDER BY id DESC").rows.compactMap { $0.first ?? nil }
    }

    /// A run's journal entries in order, and its fold; a line that is not an entry is an
    /// error naming the run and the line.
    public func load(_ runID: String) async throws -> (entries: [JournalEntry], record: RunRecord) {
        let rows = try await db.execute("SELECT line FROM fleetup_journal WHERE run_id = $1 ORDER BY seq", [runID]).rows
        let source = "\(db.url) run \(runID) journal"
        guard !rows.isEmpty else { throw StoreError(.corruptJournal, path: source, "the journal is empty: the run never started") }
        let entries = try JournalLines.decode(rows.map { Array((($0.first ?? nil) ?? "").utf8) }, source: source)
        return (entries, try RunRecord(entries: entries))
    }

    /// Sets the run's outcome column (what `fleetup runs` lists without folding).
    public func finish(_ runID: String, outcome: RunOutcome) async throws {
        try await db.execute("UPDATE fleetup_runs SET outcome = $2 WHERE id = $1", [runID, outcome.rawValue])
    }
}

extension PostgresRuns {
    /// Keeps a run's reports (by file name: `run.json`, `report.md`, …), replacing earlier ones.
    public func saveReports(_ runID: String, _ files: [(name: String, bytes: [UInt8])]) async throws {
        try await db.execute("BEGIN")
        do {
            for f in files {
                try await db.execute(
                    """
                    INSERT INTO fleetup_reports (run_id, format, body) VALUES ($1, $2, convert_to($3, 'UTF8'))
                    ON CONFLICT (run_id, format) DO UPDATE SET body = EXCLUDED.body
                    """, [runID, f.name, String(decoding: f.bytes, as: UTF8.self)])
            }
            try await db.execute("COMMIT")
        } catch {
            _ = try? await db.execute("ROLLBACK")
            throw error
        }
    }
}
