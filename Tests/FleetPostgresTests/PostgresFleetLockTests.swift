import FleetCore
import FleetLocal
import FleetStore
import FleetTestFleet
import Foundation
import Testing

@testable import FleetPostgres

/// The fleet's lock in the PostgreSQL store: one holder across machines, named in the
/// refusal; a holder whose session ended is taken over; a forced release is recorded.
@Suite("PostgreSQL store: the fleet's lock", .enabled(if: TestPostgres.available, "needs PostgreSQL's server (Debian's postgresql)"))
struct PostgresFleetLockTests {
    static let key = FleetKey(hex: "5b1a3e2f0c4d6e7a", label: "mattermost.yml with inventories/mattermost")

    static func owner(_ run: String, _ user: String, _ machine: String) -> LockOwner {
        LockOwner(
            runID: run, user: user, machine: machine, pid: 4242, startedAt: Date(timeIntervalSince1970: 1_796_000_000),
            playbook: "mattermost.yml", inventories: ["inventories/mattermost"], fleetKey: key.hex, fleet: key.label)
    }

    static func url(_ pg: TestPostgres) throws -> PostgresURL {
        try pg.role("fleetup", password: StoreSchemaTests.password, database: "fleetup")
        return try PostgresURL(pg.url(user: "fleetup", password: StoreSchemaTests.password, database: "fleetup"))
    }

    @Test("a second machine is refused with the holder named; after release it takes the lock")
    func oneHolder() async throws {
        try await TestPostgres.with { pg in
            let url = try Self.url(pg)
            _ = try await PGConnection.with(url) { try await StoreSchema.initialize($0, by: "test") }
            let first = PostgresFleetLock(url: url, key: Self.key), second = PostgresFleetLock(url: url, key: Self.key)
            let alice = Self.owner("20261207-100000-aaaa", "alice", "ops1")
            #expect(try await first.acquire(alice).isEmpty)
            await #expect {
                _ = try await second.acquire(Self.owner("20261207-100100-bbbb", "bob", "ops2"))
            } throws: { error in
                (error as? LockError) == .held(alice)
                    && "\(error)".hasPrefix("the fleet is locked by run 20261207-100000-aaaa (alice@ops1, pid 4242, since ")
            }
            #expect(try await first.status() == (.held(alice), false))
            try await first.release(alice.runID)
            #expect(try await first.status() == (.free, false))
            let bob = Self.owner("20261207-100100-bbbb", "bob", "ops2")
            #expect(try await second.acquire(bob).isEmpty)
            try await second.release(bob.runID)
        }
    }

    @Test("a holder whose session ended (a killed coordinator): seen as stale, taken over with a note")
    func deadHolder() async throws {
        try await TestPostgres.with { pg in
            let url = try Self.url(pg)
            _ = try await PGConnection.with(url) { try await StoreSchema.initialize($0, by: "test") }
            let dead = PostgresFleetLock(url: url, key: Self.key)
            let alice = Self.owner("20261207-100000-aaaa", "alice", "ops1")
            _ = try await dead.acquire(alice)
            // The coordinator's session ends without a release, as when its process is killed.
            try pg.sql(
                "SELECT pg_terminate_backend(backend_pid) FROM fleetup_fleet_locks WHERE key = '\(Self.key.hex)'", database: "fleetup")
            let lock = PostgresFleetLock(url: url, key: Self.key)
            #expect(try await lock.status() == (.held(alice), true))
            let bob = Self.owner("20261207-100100-bbbb", "bob", "ops2")
            let notes = try await lock.acquire(bob)
            #expect(notes.count == 1 && notes[0].contains("was left by run 20261207-100000-aaaa (alice@ops1"), "\(notes)")
            #expect(try await lock.status() == (.held(bob), false))
            try await lock.release(bob.runID)
        }
    }

    @Test("force release ends the holder's session and records who forced it")
    func forceRelease() async throws {
        try await TestPostgres.with { pg in
            let url = try Self.url(pg)
            _ = try await PGConnection.with(url) { try await StoreSchema.initialize($0, by: "test") }
            let holder = PostgresFleetLock(url: url, key: Self.key)
            let alice = Self.owner("20261207-100000-aaaa", "alice", "ops1")
            _ = try await holder.acquire(alice)
            let previous = try await PostgresFleetLock(url: url, key: Self.key).forceRelease(by: "carol@ops3")
            #expect(previous == .held(alice))
            #expect(try await holder.status() == (.free, false))
            let record = try pg.sql("SELECT released_by, holder_was FROM fleetup_lock_releases", database: "fleetup")
            #expect(record.hasPrefix("carol@ops3|held by run 20261207-100000-aaaa (alice@ops1"), "\(record)")
            // The forced-out holder's own release finds its session gone: an error, the lock stays free.
            await #expect(throws: PGConnection.Failure.self) { try await holder.release(alice.runID) }
            #expect(try await holder.status() == (.free, false))
        }
    }
}
