/// The PostgreSQL store's tables (docs/store.md), versioned: `fleetup store init` creates
/// them or brings an older schema up to this fleetup's, idempotently and safely when two
/// machines run it at once (one transaction under an advisory lock); a schema newer than
/// this fleetup knows is refused, never touched.
public enum StoreSchema {
    /// The schema this fleetup reads and writes.
    public static let version = 1

    /// Every migration in order: `migrations[i]` takes the schema from version i to i + 1.
    static let migrations: [String] = [
        """
        CREATE TABLE fleetup_runs (
            id text PRIMARY KEY,
            started_at timestamptz NOT NULL,
            playbook text NOT NULL,
            started_by text NOT NULL,
            machine text NOT NULL,
            outcome text
        );
        CREATE TABLE fleetup_journal (
            run_id text NOT NULL REFERENCES fleetup_runs (id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            line text NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE fleetup_reports (
            run_id text NOT NULL REFERENCES fleetup_runs (id) ON DELETE CASCADE,
            format text NOT NULL,
            body bytea NOT NULL,
            PRIMARY KEY (run_id, format)
        );
        CREATE TABLE fleetup_fleet_locks (
            key text PRIMARY KEY,
            label text NOT NULL,
            run_id text NOT NULL,
            owner text NOT NULL,
            backend_pid integer NOT NULL,
            since timestamptz NOT NULL
        );
        CREATE TABLE fleetup_host_locks (
            endpoint text PRIMARY KEY,
            run_id text NOT NULL,
            since timestamptz NOT NULL
        );
        CREATE TABLE fleetup_approvals (
            run_id text NOT NULL REFERENCES fleetup_runs (id) ON DELETE CASCADE,
            stage text NOT NULL,
            approved_by text NOT NULL,
            machine text NOT NULL,
            at timestamptz NOT NULL,
            reason text,
            PRIMARY KEY (run_id, stage)
        );
        CREATE TABLE fleetup_lock_releases (
            key text NOT NULL,
            label text NOT NULL,
            released_by text NOT NULL,
            machine text NOT NULL,
            at timestamptz NOT NULL,
            holder_was text NOT NULL
        );
        """
    ]

    /// What `init` did.
    public enum Outcome: Sendable, Equatable {
        case created(version: Int)
        case migrated(from: Int, to: Int)
        case current(version: Int)
    }

    /// Why the store cannot be used by this fleetup.
    public struct Mismatch: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The advisory lock key `init` holds for its transaction ("fleetup\0" as 8 bytes).
    static let lockKey = "7380983889236553728"

    /// Creates or migrates the schema in one transaction; `by` says who did it (recorded).
    public static func initialize(_ db: PGConnection, by: String) async throws -> Outcome {
        try await db.execute("BEGIN")
        do {
            try await db.execute("SELECT pg_advisory_xact_lock(\(lockKey))")
            try await db.execute(
                "CREATE TABLE IF NOT EXISTS fleetup_schema (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now(), by_whom text NOT NULL)"
            )
            let found = try await storedVersion(db)
            if found > version {
                throw Mismatch(description: newer(found, db.url))
            }
            for step in found..<version { try await db.execute(migrations[step]) }
            if found != version {
                try await db.execute("DELETE FROM fleetup_schema")
                try await db.execute("INSERT INTO fleetup_schema (version, by_whom) VALUES ($1, $2)", [String(version), by])
            }
            try await db.execute("COMMIT")
            if found == version { return .current(version: version) }
            return found == 0 ? .created(version: version) : .migrated(from: found, to: version)
        } catch {
            _ = try? await db.execute("ROLLBACK")
            throw error
        }
    }

    /// Checks that the store holds exactly this fleetup's schema (every command but `init`).
    public static func check(_ db: PGConnection) async throws {
        let exists = try await db.execute("SELECT to_regclass('fleetup_schema') IS NOT NULL").rows.first?.first ?? nil
        guard exists == "t" else {
            throw Mismatch(description: "\(db.url) has no fleetup schema: run `fleetup store init --store URL` once")
        }
        let found = try await storedVersion(db)
        if found > version { throw Mismatch(description: newer(found, db.url)) }
        if found < version {
            throw Mismatch(
                description: "\(db.url) has fleetup's schema version \(found), older than this fleetup's \(version): "
                    + "run `fleetup store init --store URL` to migrate it")
        }
    }

    static func storedVersion(_ db: PGConnection) async throws -> Int {
        let rows = try await db.execute("SELECT max(version) FROM fleetup_schema").rows
        return rows.first?.first.flatMap { $0.flatMap { Int($0) } } ?? 0
    }

    static func newer(_ found: Int, _ url: PostgresURL) -> String {
        "\(url) has fleetup's schema version \(found), newer than this fleetup knows (\(version)): "
            + "use a fleetup at least as new as the one that migrated it"
    }
}
