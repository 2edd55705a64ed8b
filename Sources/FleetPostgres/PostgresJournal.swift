import FleetCore
import FleetStore
import Foundation
import Synchronization

/// A run's journal in the PostgreSQL store, as the coordinator's sink, with group commit:
/// `record` keeps the line (the same bytes the folder's journal.jsonl would hold), and
/// `flush(through:)` returns once a transaction holding that line has committed. Lines
/// recorded while one commit is in flight go together in the next: 50 hosts finishing
/// steps at once cost one round trip and one commit, not 50. No action starts before the
/// entry that announces it is committed (the coordinator flushes first), so a coordinator
/// killed at any moment leaves nothing acted on out of the store.
public final class PostgresJournal: RunEventSink {
    public let runID: String
    /// Where to connect again when the connection is lost (nil: never; the journal fails).
    private let reconnect: Reconnect?

    /// How the journal gets its store back after losing it.
    public struct Reconnect: Sendable {
        public var url: PostgresURL
        /// How long the store may be gone before the journal fails.
        public var limit: Duration
        /// What happens, said (on stderr).
        public var note: @Sendable (String) -> Void
        /// Run once the store answers again, before the journal writes: the run's fleet lock
        /// taken again (its session was lost with the store). Throwing fails the journal.
        public var restored: @Sendable () async throws -> Void

        public init(
            url: PostgresURL, limit: Duration = .seconds(60), note: @escaping @Sendable (String) -> Void,
            restored: @escaping @Sendable () async throws -> Void = {}
        ) {
            (self.url, self.limit, self.note, self.restored) = (url, limit, note, restored)
        }
    }
    private let connection: Mutex<PGConnection>

    private struct State {
        var pending: [(seq: Int, line: String)] = []
        var committed = 0
        var committing = false
        var waiters: [(seq: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var failure: PGConnection.Failure?
        /// Commits made (for tests and the benchmark: group commit makes it far fewer than lines).
        var commits = 0
    }

    private let state = Mutex(State())

    /// The journal of run `runID` (its row in fleetup_runs must exist) on its own connection,
    /// which the journal uses alone; `lastSeq`: the journal's last line already stored (a resume).
    public init(_ db: PGConnection, runID: String, lastSeq: Int = 0) {
        self.connection = Mutex(db)
        self.runID = runID
        self.reconnect = nil
        state.withLock { $0.committed = lastSeq }
    }

    /// A journal that survives the store going away for up to `reconnect.limit`: a commit that fails
    /// because the server cannot be reached is tried again on a new connection every second
    /// (its waiting flushes, and so every next action of the run, wait with it); the server
    /// back (and `reconnect.restored` done), the run goes on with nothing lost; still gone
    /// after the limit, the journal fails and the run stops as on an unwritable journal.
    public init(_ db: PGConnection, runID: String, lastSeq: Int = 0, reconnect: Reconnect) {
        self.connection = Mutex(db)
        self.runID = runID
        self.reconnect = reconnect
        state.withLock { $0.committed = lastSeq }
    }

    /// The connection in use (a new one after an outage); closing it is the caller's.
    public var db: PGConnection { connection.withLock { $0 } }

    public func prepare(_ event: RunEvent) -> PreparedEvent? {
        (try? JournalLines.prepare(event)).map(PreparedEvent.init(bytes:))
    }

    public func record(_ entry: JournalEntry) throws { try record(entry, prepared: nil) }

    public func record(_ entry: JournalEntry, prepared: PreparedEvent?) throws {
        let line = String(decoding: try JournalLines.line(entry, prepared: prepared?.bytes), as: UTF8.self)
        try state.withLock { s throws(PGConnection.Failure) in
            if let f = s.failure { throw f }
            s.pending.append((entry.seq, line))
        }
    }

    public func flush(through seq: Int) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let (ready, start) = state.withLock { s -> (Result<Void, any Error>?, Bool) in
                if let f = s.failure { return (.failure(f), false) }
                if s.committed >= seq { return (.success(()), false) }
                s.waiters.append((seq, c))
                if s.committing { return (nil, false) }
                s.committing = true
                return (nil, true)
            }
            if let ready { c.resume(with: ready) }
            if start { Task { await self.commitLoop() } }
        }
    }

    /// Commits what is pending, again while waiters need more, then stops.
    private func commitLoop() async {
        while true {
            let batch = state.withLock { s -> [(seq: Int, line: String)]? in
                guard !s.waiters.isEmpty, !s.pending.isEmpty else {
                    s.committing = false
                    return nil
                }
                let batch = s.pending
                s.pending.removeAll(keepingCapacity: true)
                return batch
            }
            guard let batch else { return }
            var failure: PGConnection.Failure?
            do { try await insert(batch) } catch {
                failure = (error as? PGConnection.Failure) ?? PGConnection.Failure(message: "\(error)", sqlState: nil)
                if let reconnect, failure!.isConnectionLoss { failure = await retry(batch, failure!, reconnect) }
            }
            let resume = state.withLock { s -> [(CheckedContinuation<Void, any Error>, Result<Void, any Error>)] in
                if let failure {
                    s.failure =
                        s.failure
                        ?? PGConnection.Failure(
                            message: "the journal of run \(runID) could not be written to the store: \(failure.message)",
                            sqlState: failure.sqlState)
                } else {
                    s.committed = max(s.committed, batch.last?.seq ?? 0)
                    s.commits += 1
                }
                var out: [(CheckedContinuation<Void, any Error>, Result<Void, any Error>)] = []
                s.waiters.removeAll { w in
                    if let f = s.failure { out.append((w.continuation, .failure(f))); return true }
                    if w.seq <= s.committed { out.append((w.continuation, .success(()))); return true }
                    return false
                }
                if s.failure != nil { s.committing = false }
                return out
            }
            for (c, r) in resume { c.resume(with: r) }
            if failure != nil { return }
        }
    }

    /// After a commit failed without the server's word (the connection is gone): a new
    /// connection every second, the batch again, until it is in or `limit` has passed.
    /// Returns nil once committed, else why not. A batch that was in fact committed before
    /// the connection dropped is not written twice (`ON CONFLICT DO NOTHING`: one seq is
    /// always one line).
    private func retry(
        _ batch: [(seq: Int, line: String)], _ first: PGConnection.Failure, _ reconnect: Reconnect
    ) async -> PGConnection.Failure? {
        let deadline = ContinuousClock.now + reconnect.limit
        reconnect.note(
            "the store \(reconnect.url) cannot be reached (\(first.message)): no host goes on until it is back, "
                + "for \(DurationText.format(reconnect.limit)) at most")
        var last = first
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .seconds(1))
            guard let fresh = try? await PGConnection.connect(reconnect.url) else { continue }
            let old = connection.withLock { c -> PGConnection in
                defer { c = fresh }; return c
            }
            await old.close()
            do {
                try await reconnect.restored()
            } catch {
                return PGConnection.Failure(message: "the store is back, but \(error)", sqlState: "fleetup-lock")
            }
            do {
                try await insert(batch)
                reconnect.note("the store \(reconnect.url) is back: the run goes on")
                return nil
            } catch {
                last = (error as? PGConnection.Failure) ?? PGConnection.Failure(message: "\(error)", sqlState: nil)
                if !last.isConnectionLoss { return last }
            }
        }
        return PGConnection.Failure(
            message: "unreachable for \(DurationText.format(reconnect.limit)): \(last.message)", sqlState: last.sqlState)
    }

    /// One transaction: every line of the batch, in rows of at most 1,000 per statement.
    private func insert(_ batch: [(seq: Int, line: String)]) async throws {
        let db = self.db
        let chunks = stride(from: 0, to: batch.count, by: 1000).map { Array(batch[$0..<min($0 + 1000, batch.count)]) }
        if chunks.count > 1 { try await db.execute("BEGIN") }
        do {
            for chunk in chunks {
                var sql = "INSERT INTO fleetup_journal (run_id, seq, line) VALUES "
                var parameters: [String?] = [runID]
                for (i, row) in chunk.enumerated() {
                    sql += (i == 0 ? "" : ", ") + "($1, $\(2 * i + 2), $\(2 * i + 3))"
                    parameters += [String(row.seq), row.line]
                }
                try await db.execute(sql + " ON CONFLICT (run_id, seq) DO NOTHING", parameters)
            }
            if chunks.count > 1 { try await db.execute("COMMIT") }
        } catch {
            if chunks.count > 1 { _ = try? await db.execute("ROLLBACK") }
            throw error
        }
    }

    /// How many commits the journal made (group commit: far fewer than its lines).
    public var commits: Int { state.withLock { $0.commits } }
}
