import Testing

@testable import FleetPostgres

@Suite("store URLs")
struct PostgresURLTests {
    @Test(
        "the password never shows; user, host and database read",
        arguments: [
            (
                "postgres://fleetup:pa%40ss@db.example.com:5432/fleet", "postgres://fleetup:***@db.example.com:5432/fleet", "fleetup",
                "db.example.com", "fleet"
            ),
            (
                "postgresql://ops@10.0.0.5/fleetup?sslmode=require", "postgresql://ops@10.0.0.5/fleetup?sslmode=require", "ops", "10.0.0.5",
                "fleetup"
            ),
            ("postgres://u:p@/db?host=/run/pg", "postgres://u:***@/db?host=/run/pg", "u", "/run/pg", "db"),
            ("postgres:///fleetup", "postgres:///fleetup", nil, nil, "fleetup"),
        ])
    func parse(text: String, shown: String, user: String?, host: String?, database: String?) throws {
        let url = try PostgresURL(text)
        #expect(url.description == shown)
        #expect(url.user == user && url.host == host && url.database == database)
        #expect(url.libpqText == text)
    }

    @Test(
        "not a store URL: an error saying what is expected, without the password",
        arguments: [
            ("mysql://u:hunter2@h/db", "a store must be postgres://[user[:password]@][host][:port]/database, not \"***@h/db\""),
            ("/var/lib/fleetup", "a store must be postgres://[user[:password]@][host][:port]/database, not \"/var/lib/fleetup\""),
            (
                "postgres://u@h/db?password=hunter2",
                "give the store's password in the URL's user part or in PGPASSWORD/~/.pgpass, not as ?password="
            ),
        ])
    func invalid(text: String, message: String) {
        #expect {
            try PostgresURL(text)
        } throws: { error in
            "\(error)" == message && !"\(error)".contains("hunter2")
        }
    }
}
