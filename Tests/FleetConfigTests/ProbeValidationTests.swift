import FleetConfig
import FleetCore
import Testing

/// http and tcp probes are read by one parser (`ProbeAddress`) wherever they are checked:
/// a literal value when the playbook is read, a template for every host by `check`, and the
/// planner. What `check` passes, `plan` and `run` accept.
@Suite("health probe addresses")
struct ProbeValidationTests {
    /// A playbook whose only probe is `kind: value` (the probe's line is 11).
    static func playbook(_ kind: String, _ value: String) -> String {
        """
        hosts: app
        version:
          detect: cat /etc/app-version
        releases: ["1.0.0", "1.1.0"]
        vars:
          app_port: 8080
        steps:
          - name: install
            run: install
        health:
          - \(kind): '\(value)'
        """
    }

    @Test(
        "a literal probe value the planner would refuse is an error when the playbook is read",
        arguments: [
            // The issue's cases: a port past 65535, a URL without a host, an unclosed IPv6 bracket.
            (
                "http", "http://127.0.0.1:80800/",
                "health[1]: http: \"http://127.0.0.1:80800/\": port 80800 is out of range (expected 1-65535)"
            ),
            ("http", "http://", "health[1]: http: \"http://\" has no host (expected http://HOST:PORT/PATH)"),
            ("http", "http://[::1", "health[1]: http: \"http://[::1\": \"[\" is not closed by \"]\" (expected [IPv6]:PORT)"),
            // The probe goes through the SSH tunnel: plain http.
            (
                "http", "https://127.0.0.1/",
                "health[1]: http: \"https://127.0.0.1/\" is not an http URL (expected http://HOST:PORT/PATH; the probe goes through the SSH connection, so no TLS)"
            ),
            // Credentials would go nowhere (and would show in plans).
            (
                "http", "http://admin@127.0.0.1/",
                "health[1]: http: \"http://admin@127.0.0.1/\": a user in the URL is not supported (expected http://HOST:PORT/PATH)"
            ),
            // A colon promises a port.
            (
                "http", "http://127.0.0.1:/health",
                "health[1]: http: \"http://127.0.0.1:/health\" has no port after \":\" (expected 1-65535)"
            ),
            ("http", "http://127.0.0.1:80x/", "health[1]: http: \"http://127.0.0.1:80x/\": \"80x\" is not a port (expected 1-65535)"),
            // Without brackets the port of an IPv6 address cannot be told apart.
            ("http", "http://::1/", "health[1]: http: \"http://::1/\": an IPv6 address goes in brackets (expected [IPv6]:PORT)"),
            ("http", "http://[::1]x/", "health[1]: http: \"http://[::1]x/\": expected \":PORT\" after \"]\", got \"x\""),
            // The issue's tcp cases: a port that is a word, and port 0.
            ("tcp", "host:abc", "health[1]: tcp: \"host:abc\": \"abc\" is not a port (expected 1-65535)"),
            ("tcp", "0", "health[1]: tcp: \"0\": port 0 is out of range (expected 1-65535)"),
            // Too many digits for any integer is out of range too, not a crash or "not a port".
            (
                "tcp", "99999999999999999999",
                "health[1]: tcp: \"99999999999999999999\": port 99999999999999999999 is out of range (expected 1-65535)"
            ),
            // A host alone names no port.
            ("tcp", "app", "health[1]: tcp: \"app\" is not an address (expected PORT, HOST:PORT or [IPv6]:PORT)"),
            ("tcp", ":8080", "health[1]: tcp: \":8080\" has no host before the port (expected HOST:PORT)"),
            ("tcp", "[::1]", "health[1]: tcp: \"[::1]\" has no port (expected HOST:PORT)"),
            ("tcp", "127.0.0.1:", "health[1]: tcp: \"127.0.0.1:\" has no port after \":\" (expected 1-65535)"),
        ])
    func literal(kind: String, value: String, message: String) {
        do {
            _ = try PlaybookLoader.parse(Self.playbook(kind, value), file: "up.yml")
            Issue.record("\(kind): \(value) loaded, but the planner refuses it")
        } catch {
            #expect(error.errors.map(\.description) == ["up.yml:11: \(message)"])
        }
    }

    @Test(
        "good literal values load",
        arguments: [
            ("http", "http://127.0.0.1:8080/api/v4/system/ping"),
            ("http", "http://app"),  // port 80, path /
            ("http", "http://[::1]:8080/"),
            ("http", "http://{{ \"127.0.0.1\" }}:80/"),  // a quoted literal insertion is text, checked as such
            ("tcp", "5432"),  // a port alone: 127.0.0.1
            ("tcp", "db.internal:5432"),
            ("tcp", "[::1]:22"),
        ])
    func good(kind: String, value: String) throws {
        let book = try PlaybookLoader.parse(Self.playbook(kind, value), file: "up.yml")
        #expect(book.health.count == 1)
    }

    static let hosts = [
        Host(name: "web1", vars: ["app_port": .int(80800), "probe_addr": .string("db:abc"), "token": .string("s3cr3t")]),
        Host(name: "web2", vars: ["app_port": .int(8080), "probe_addr": .string("0"), "token": .string("s3cr3t")]),
        Host(name: "web3", vars: ["app_port": .int(8080), "probe_addr": .string("db:5432"), "token": .string("s3cr3t")]),
    ]

    @Test(
        "a templated probe value is checked per host as the host renders it, secrets masked",
        arguments: [
            // web1's inventory gives a port past 65535.
            (
                "http", "http://127.0.0.1:{{ app_port }}/",
                "health[1]: http: \"http://127.0.0.1:80800/\": port 80800 is out of range (expected 1-65535) (host web1)"
            ),
            // The rendered value is quoted: the secret in it shows as the mask.
            (
                "http", "http://127.0.0.1:{{ app_port }}/?t={{ token }}",
                "health[1]: http: \"http://127.0.0.1:80800/?t=[REDACTED]\": port 80800 is out of range (expected 1-65535) (host web1)"
            ),
            // Two hosts, two problems, each named.
            (
                "tcp", "{{ probe_addr }}",
                "health[1]: tcp: \"db:abc\": \"abc\" is not a port (expected 1-65535) (host web1)|health[1]: tcp: \"0\": port 0 is out of range (expected 1-65535) (host web2)"
            ),
            // An unknown variable is said as before, with the probe's kind.
            ("tcp", "{{ probe_adr }}", "health[1]: tcp: unknown variable \"probe_adr\" (did you mean \"probe_addr\"?) (on all 3 hosts)"),
        ])
    func templated(kind: String, value: String, messages: String) throws {
        var book = try PlaybookLoader.parse(Self.playbook(kind, value), file: "up.yml")
        book.secret = ["token"]
        let problems = PlaybookCheck.templates(book, hosts: Self.hosts, target: Version("1.1.0")!)
        #expect(problems.map(\.description) == messages.split(separator: "|").map { "up.yml:11: \($0)" })
    }
}
