import FleetCore
import FleetLocal
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

@testable import FleetPostgres

/// A run's journal in PostgreSQL: the folder's bytes, group commit, and what a crash keeps.
@Suite("PostgreSQL store: the journal", .enabled(if: TestPostgres.available, "needs PostgreSQL's server (Debian's postgresql)"))
struct PostgresJournalTests {
    /// A store with the schema and the sample run's row, and a connection for the test.
    static func store(_ pg: TestPostgres) async throws -> (PGConnection, PostgresRuns) {
        try pg.role("fleetup", password: StoreSchemaTests.password, database: "fleetup")
        let db = try await PGConnection.connect(
            try PostgresURL(pg.url(user: "fleetup", password: StoreSchemaTests.password, database: "fleetup")))
        _ = try await StoreSchema.initialize(db, by: "test")
        let runs = PostgresRuns(db)
        try await runs.create(SampleRun.header, at: SampleRun.time(0))
        return (db, runs)
    }

    @Test("every line is the folder journal's line, byte for byte; read back, the fold is the same record")
    func sameBytes() async throws {
        try await TestPostgres.with { pg in
            let (db, runs) = try await Self.store(pg)
            let journal = PostgresJournal(db, runID: SampleRun.id)
            let entries = SampleRun.entries
            // The folder store's own journal of the same entries.
            let dir = "/var/tmp/fleetup-pgj-\(getpid())-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let writer = try JournalWriter(path: dir + "/journal.jsonl")
            for (i, entry) in entries.enumerated() {
                // Half of them prepared ahead, as the coordinator does.
                try journal.record(entry, prepared: i % 2 == 0 ? journal.prepare(entry.event) : nil)
                try writer.append(entry)
            }
            writer.close()
            try await journal.flush(through: entries.last!.seq)
            let folderLines = try String(contentsOfFile: dir + "/journal.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
            let storeLines = try pg.sql("SELECT line FROM fleetup_journal ORDER BY seq", database: "fleetup")
                .split(separator: "\n").map(String.init)
            #expect(storeLines == folderLines)
            let loaded = try await runs.load(SampleRun.id)
            #expect(loaded.entries == entries)
            #expect(loaded.record == SampleRun.record)
            await db.close()
        }
    }

    @Test("group commit: 50 hosts flushing at once share commits; each flush returns only once its line is committed")
    func groupCommit() async throws {
        try await TestPostgres.with { pg in
            let (db, _) = try await Self.store(pg)
            let journal = PostgresJournal(db, runID: SampleRun.id)
            let reader = try await PGConnection.connect(db.url)
            let header = JournalEntry(seq: 1, time: SampleRun.time(0), event: .runStarted(SampleRun.header))
            try journal.record(header)
            try await journal.flush(through: 1)
            let seqs = Array(2...51)
            for seq in seqs {
                try journal.record(JournalEntry(seq: seq, time: SampleRun.time(seq), event: .stageStarted(stage: "s\(seq)")))
            }
            // Each "host" flushes its own line, then asks another connection whether it is there.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for seq in seqs {
                    group.addTask {
                        try await journal.flush(through: seq)
                        let seen = try await reader.execute(
                            "SELECT count(*) FROM fleetup_journal WHERE run_id = $1 AND seq = $2", [SampleRun.id, String(seq)])
                        #expect(seen.rows == [["1"]], "line \(seq) flushed but not committed")
                    }
                }
                try await group.waitForAll()
            }
            #expect(journal.commits < seqs.count / 2, "\(journal.commits) commits for \(seqs.count) lines")
            #expect(journal.commits >= 2)
            await reader.close()
            await db.close()
        }
    }

    @Test("a crash of the server: every flushed line is there after the restart; the journal then refuses, naming the store")
    func crash() async throws {
        try await TestPostgres.with { pg in
            let (db, runs) = try await Self.store(pg)
            let journal = PostgresJournal(db, runID: SampleRun.id)
            let entries = Array(SampleRun.entries.prefix(10))
            for entry in entries { try journal.record(entry) }
            try await journal.flush(through: entries.last!.seq)
            try pg.kill()  // immediate: no shutdown checkpoint, as a crash
            let next = JournalEntry(seq: entries.last!.seq + 1, time: SampleRun.time(99_000), event: .stageStarted(stage: "prod"))
            try journal.record(next)
            await #expect {
                try await journal.flush(through: next.seq)
            } throws: { error in
                "\(error)".hasPrefix("the journal of run \(SampleRun.id) could not be written to the store: ")
                    && !"\(error)".contains(StoreSchemaTests.password)
            }
            // Once failed, it stays failed: nothing more is recorded as if it were kept.
            #expect(throws: PGConnection.Failure.self) { try journal.record(next) }
            try pg.restart()
            let again = try await PGConnection.connect(db.url)
            let loaded = try await PostgresRuns(again).load(SampleRun.id)
            #expect(loaded.entries == entries)
            _ = runs
            await again.close()
            await db.close()
        }
    }
}
