import FleetCore
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

extension PostgresURLTests {
    @Test("10,000 hostile URLs (seeded): no crash; a password given is never in what is printed")
    func hostile() {
        var rng = SplitMix64(seed: 0x5EED_F1EE_7000)
        let alphabet = Array("postgres:/@%?&=#[]:.-_ab09\u{0}\n\u{1F600}%41%2F%%")
        for _ in 0..<10_000 {
            let tail = String((0..<Int(rng.next() % 40)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            let text = (rng.next() % 4 == 0 ? "" : "postgres://u:SECRETPW@") + tail
            switch Result(catching: { try PostgresURL(text) }) {
            case .success(let url): #expect(!url.description.contains("SECRETPW"), "\(text.debugDescription) -> \(url)")
            case .failure(let error): #expect(!"\(error)".contains("SECRETPW"), "\(text.debugDescription) -> \(error)")
            }
        }
    }
}
