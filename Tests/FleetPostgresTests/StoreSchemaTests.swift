import FleetLocal
import FleetTestFleet
import Foundation
import Testing

@testable import FleetPostgres

/// The PostgreSQL store's schema against a real PostgreSQL the tests start themselves
/// (TestPostgres: initdb + pg_ctl in a folder, a Unix socket only).
@Suite("PostgreSQL store: connection and schema", .enabled(if: TestPostgres.available, "needs PostgreSQL's server (Debian's postgresql)"))
struct StoreSchemaTests {
    static let password = "s3cret-pw-9c1e"

    @Test("store init creates the schema once; a second init (and one racing it) finds it current; every table is there")
    func initialize() async throws {
        try await TestPostgres.with { pg in
            try pg.role("fleetup", password: Self.password, database: "fleetup")
            let url = try PostgresURL(pg.url(user: "fleetup", password: Self.password, database: "fleetup"))
            let a = try await PGConnection.connect(url), b = try await PGConnection.connect(url)
            // Two machines at once: one creates, the other waits on the advisory lock and finds it current.
            async let first = StoreSchema.initialize(a, by: "alice@one")
            async let second = StoreSchema.initialize(b, by: "bob@two")
            let outcomes = try await [first, second]
            #expect(outcomes.filter { $0 == .created(version: StoreSchema.version) }.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == .current(version: StoreSchema.version) }.count == 1, "\(outcomes)")
            #expect(try await StoreSchema.initialize(a, by: "alice@one") == .current(version: 1))
            try await StoreSchema.check(b)
            let tables = try pg.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database: "fleetup")
            #expect(
                tables.split(separator: "\n") == [
                    "fleetup_approvals", "fleetup_fleet_locks", "fleetup_host_locks", "fleetup_journal", "fleetup_lock_releases",
                    "fleetup_reports", "fleetup_runs", "fleetup_schema",
                ])
            #expect(try pg.sql("SELECT version, by_whom FROM fleetup_schema", database: "fleetup").split(separator: "\n").count == 1)
            await a.close()
            await b.close()
        }
    }

    @Test("a store without the schema, or with a newer one: refused with what to do; the newer one untouched")
    func mismatch() async throws {
        try await TestPostgres.with { pg in
            try pg.role("fleetup", password: Self.password, database: "fleetup")
            let url = try PostgresURL(pg.url(user: "fleetup", password: Self.password, database: "fleetup"))
            let db = try await PGConnection.connect(url)
            await #expect {
                try await StoreSchema.check(db)
            } throws: { error in
                "\(error)" == "\(url) has no fleetup schema: run `fleetup store init --store URL` once"
            }
            _ = try await StoreSchema.initialize(db, by: "test")
            try pg.sql("UPDATE fleetup_schema SET version = 7", database: "fleetup")
            for attempt in 0..<2 {
                await #expect {
                    if attempt == 0 { try await StoreSchema.check(db) } else { _ = try await StoreSchema.initialize(db, by: "test") }
                } throws: { error in
                    "\(error)".hasSuffix(
                        "has fleetup's schema version 7, newer than this fleetup knows (1): use a fleetup at least as new as the one that migrated it"
                    )
                }
            }
            #expect(try pg.sql("SELECT version FROM fleetup_schema", database: "fleetup") == "7\n")
            await db.close()
        }
    }

    @Test("a wrong password or an unreachable server: libpq's reason, never the password")
    func connectFailures() async throws {
        try await TestPostgres.with { pg in
            try pg.role("fleetup", password: Self.password, database: "fleetup")
            let wrong = try PostgresURL(pg.url(user: "fleetup", password: "not-it-4711", database: "fleetup"))
            await #expect {
                _ = try await PGConnection.connect(wrong)
            } throws: { error in
                let text = "\(error)"
                return text.contains("password authentication failed for user \"fleetup\"") && !text.contains("not-it-4711")
                    && text.hasPrefix("cannot connect to postgres://fleetup:***@/fleetup?host=")
            }
            try pg.kill()
            let right = try PostgresURL(pg.url(user: "fleetup", password: Self.password, database: "fleetup"))
            await #expect {
                _ = try await PGConnection.connect(right)
            } throws: { error in
                "\(error)".contains("No such file or directory") && !"\(error)".contains(Self.password)
            }
        }
    }

    @Test("parameters travel apart from the statement: a hostile value is data, not SQL")
    func parameters() async throws {
        try await TestPostgres.with { pg in
            try pg.role("fleetup", password: Self.password, database: "fleetup")
            let db = try await PGConnection.connect(try PostgresURL(pg.url(user: "fleetup", password: Self.password, database: "fleetup")))
            try await db.execute("CREATE TABLE t (v text)")
            let hostile = "x'); DROP TABLE t; --\n\u{1F600}"
            let inserted = try await db.execute("INSERT INTO t (v) VALUES ($1), ($2)", [hostile, nil])
            #expect(inserted.affected == 2)
            #expect(try await db.execute("SELECT v FROM t ORDER BY v NULLS LAST").rows == [[hostile], [nil]])
            await #expect {
                try await db.execute("SELECT * FROM no_such_table")
            } throws: { error in
                (error as? PGConnection.Failure)?.sqlState == "42P01"
            }
            await db.close()
        }
    }
}

/// `fleetup store init`, the built binary, against the tests' own PostgreSQL.
@Suite("fleetup store init", .enabled(if: TestPostgres.available, "needs PostgreSQL's server (Debian's postgresql)"))
struct StoreInitCommandTests {
    @Test("created, then already current (from FLEETUP_STORE too); a newer schema exits 2; the password never printed")
    func command() async throws {
        try await TestPostgres.with { pg in
            try pg.role("fleetup", password: StoreSchemaTests.password, database: "fleetup")
            let url = pg.url(user: "fleetup", password: StoreSchemaTests.password, database: "fleetup")
            let fleetup = try TestFleet.builtProduct("fleetup")
            let first = try await TestFleet.runProgram(fleetup, ["store", "init", "--store", url])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout == "store \(try PostgresURL(url)): fleetup's tables created (schema version 1)\n")
            var environment = ProcessInfo.processInfo.environment
            environment["FLEETUP_STORE"] = url
            let second = try await TestFleet.runProgram(fleetup, ["store", "init"], environment: environment)
            #expect(second.status == 0 && second.stdout.hasSuffix(": already at schema version 1; nothing to do\n"), "\(second.stdout)")
            try pg.sql("UPDATE fleetup_schema SET version = 2", database: "fleetup")
            let newer = try await TestFleet.runProgram(fleetup, ["store", "init", "--store", url])
            #expect(newer.status == 2 && newer.stderr.contains("newer than this fleetup knows (1)"), "\(newer.stderr)")
            for r in [first, second, newer] { #expect(!(r.stdout + r.stderr).contains(StoreSchemaTests.password)) }
        }
    }
}
