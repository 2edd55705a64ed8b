import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// A shared store for a test: a PostgreSQL of the test's own (TestPostgres), a role and
/// database `fleetup` with `password`, and `fleetup store init` done by the built binary.
enum SharedStore {
    static func with(password: String, _ body: (TestPostgres, String) async throws -> Void) async throws {
        try await TestPostgres.with { pg in
            try pg.role("fleetup", password: password, database: "fleetup")
            let url = pg.url(user: "fleetup", password: password, database: "fleetup")
            let r = try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), ["store", "init", "--store", url])
            try #require(r.status == 0, "\(r.stderr)")
            try await body(pg, url)
        }
    }
}
