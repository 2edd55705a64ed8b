import FleetCore
import FleetStore
import Foundation
import Synchronization

/// One run at a time per fleet, across every machine that uses the store: a session-level
/// advisory lock (`pg_try_advisory_lock` on the fleet's 64-bit key) held by a connection of
/// the run's own for as long as the run lives, and a row in `fleetup_fleet_locks` saying who
/// holds it (the owner's JSON, as the folder's lock file holds it).
///
/// Why a session lock and not a lease: the server ends it the moment the holder's session
/// ends — the coordinator exits, is killed, or its machine's connection is reset (TCP
/// keepalives, `keepalives_idle` in the URL, bound how long a vanished machine takes) — with
/// no clock to trust and no renewal to miss; a row whose advisory lock nobody holds is the
/// sign of a holder that died, and the next run takes it over, saying so. A forced release
/// ends the holder's session (`pg_terminate_backend`) and records who forced it.
public final class PostgresFleetLock: Sendable {
    public let url: PostgresURL
    public let key: FleetKey
    private let session = Mutex<PGConnection?>(nil)

    public init(url: PostgresURL, key: FleetKey) {
        self.url = url
        self.key = key
    }

    /// The advisory lock's key: the fleet key's 64 bits.
    var lockID: String { String(Int64(bitPattern: UInt64(key.hex, radix: 16) ?? 0)) }

    /// Takes the lock for `owner`, on a connection kept until `release`; returns notes to
    /// print (a dead holder's row taken over). Held by a live session: `LockError.held`.
    public func acquire(_ owner: LockOwner) async throws -> [String] {
        let db = try await PGConnection.connect(url)
        do {
            let got = try await db.execute("SELECT pg_try_advisory_lock($1::bigint)", [lockID]).rows.first?.first ?? nil
            guard got == "t" else {
                let holder = try await Self.owner(db, key: key)
                await db.close()
                throw holder.map { LockError.held($0) }
                    ?? LockError.unreadable(place: "\(url) fleetup_fleet_locks", problem: "the lock is held but no row says by whom")
            }
            var notes: [String] = []
            if let dead = try await Self.owner(db, key: key), dead.runID != owner.runID {
                notes.append("the fleet's lock in \(url) was left by \(dead), whose session ended: taken over")
            }
            let pid = try await db.execute("SELECT pg_backend_pid()").rows.first?.first ?? nil
            try await db.execute(
                """
                INSERT INTO fleetup_fleet_locks (key, label, run_id, owner, backend_pid, since) VALUES ($1, $2, $3, $4, $5, now())
                ON CONFLICT (key) DO UPDATE SET label = EXCLUDED.label, run_id = EXCLUDED.run_id, owner = EXCLUDED.owner,
                  backend_pid = EXCLUDED.backend_pid, since = EXCLUDED.since
                """, [key.hex, key.label, owner.runID, owner.json(), pid ?? "0"])
            session.withLock { $0 = db }
            return notes
        } catch {
            await db.close()
            throw error
        }
    }

    /// Takes the lock again for the same run after its session was lost (the store went
    /// away and came back): held by another run in between, that is `LockError.held`.
    public func reacquire(_ owner: LockOwner) async throws {
        if let old = session.withLock({ s -> PGConnection? in
            defer { s = nil }; return s
        }) {
            await old.close()
        }
        _ = try await acquire(owner)
    }

    /// Gives the lock back if run `runID` holds it: its row deleted, its session closed.
    public func release(_ runID: String) async throws {
        guard
            let db = session.withLock({ s -> PGConnection? in
                defer { s = nil }; return s
            })
        else { return }
        do {
            try await db.execute("DELETE FROM fleetup_fleet_locks WHERE key = $1 AND run_id = $2", [key.hex, runID])
            try await db.execute("SELECT pg_advisory_unlock($1::bigint)", [lockID])
        } catch {
            // Closing the session below releases the advisory lock anyway; the row stays as a
            // dead holder's, which the next run takes over.
            await db.close()
            throw error
        }
        await db.close()
    }

    /// Who holds the lock now: free, held (a live session holds it), or held by a session
    /// that ended (its row without the advisory lock: the next run takes it over).
    public func status() async throws -> (state: LockState, stale: Bool) {
        try await PGConnection.with(url) { db in try await self.status(db) }
    }

    private func status(_ db: PGConnection) async throws -> (state: LockState, stale: Bool) {
        let owner = try await Self.owner(db, key: key)
        let live = try await Self.holderPID(db, lockID: lockID) != nil
        switch (owner, live) {
        case (nil, false): return (.free, false)
        case (let o?, true): return (.held(o), false)
        case (let o?, false): return (.held(o), true)
        case (nil, true): return (.unreadable("held by a session that wrote no row in fleetup_fleet_locks"), false)
        }
    }

    /// Removes the lock whoever holds it: the holding session is ended, the row deleted, and
    /// `fleetup_lock_releases` records who did it and what it held.
    public func forceRelease(by who: String) async throws -> LockState {
        try await PGConnection.with(url) { db in try await self.forceRelease(db, by: who) }
    }

    private func forceRelease(_ db: PGConnection, by who: String) async throws -> LockState {
        let previous = try await Self.owner(db, key: key)
        if let pid = try await Self.holderPID(db, lockID: lockID) {
            try await db.execute("SELECT pg_terminate_backend($1::integer)", [pid])
        }
        try await db.execute("DELETE FROM fleetup_fleet_locks WHERE key = $1", [key.hex])
        let state: LockState = previous.map { .held($0) } ?? .free
        try await db.execute(
            "INSERT INTO fleetup_lock_releases (key, label, released_by, machine, at, holder_was) VALUES ($1, $2, $3, $4, now(), $5)",
            [key.hex, key.label, who, ProcessInfo.processInfo.hostName, "\(state)"])
        return state
    }

    static func owner(_ db: PGConnection, key: FleetKey) async throws -> LockOwner? {
        guard let json = try await db.execute("SELECT owner FROM fleetup_fleet_locks WHERE key = $1", [key.hex]).rows.first?.first ?? nil
        else { return nil }
        return try? LockOwner.parse(json)
    }

    /// The server session holding the advisory lock (a bigint key is classid = high 32
    /// bits, objid = low 32 bits, objsubid 1, in pg_locks).
    static func holderPID(_ db: PGConnection, lockID: String) async throws -> String? {
        try await db.execute(
            """
            SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
              AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid
            """, [lockID]
        ).rows.first?.first ?? nil
    }
}
