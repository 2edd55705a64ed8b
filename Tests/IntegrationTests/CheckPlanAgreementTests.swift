import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup check` and `fleetup plan` judge a playbook alike (issue 18, point 5): what `plan`
/// refuses, `check` refuses first, with the same `file:line: path: problem` and exit 2, and
/// `plan` prints no plan (so no secret) for a playbook `check` refuses.
@Suite("check and plan agree")
struct CheckPlanAgreementTests {
    /// Writes `playbook` with an inventory of two hosts (each with its license key), runs
    /// fleetup with `args` + the playbook + `-i` in that folder; removed after.
    static func fleetup(_ args: [String], playbook: String) async throws -> LocalProcess.Exit {
        let dir = NSTemporaryDirectory() + "agree-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try playbook.write(toFile: dir + "/up.yml", atomically: true, encoding: .utf8)
        try
            "[app]\nweb1 current_version=1.0.0 license_key=s3cr3t-l1cense\nweb2 current_version=1.0.0 license_key=s3cr3t-two app_port=80800\n"
            .write(toFile: dir + "/hosts.ini", atomically: true, encoding: .utf8)
        let bin = try TestFleet.builtProduct("fleetup")
        return try await TestFleet.runProgram(
            "/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", dir, bin] + args + ["up.yml", "-i", "hosts.ini"])
    }

    /// A playbook with `extra` appended (its line 10 is extra's first line).
    static func playbook(_ extra: String) -> String {
        """
        hosts: app
        version:
          detect: cat /etc/app-version
          target: "1.1.0"
        releases: ["1.0.0", "1.1.0"]
        vars: {app_port: 8080}
        steps:
          - name: install
            run: install --key {{ license_key }}
        \(extra)
        """
    }

    @Test(
        "a playbook plan refuses is refused by check, with the same message",
        arguments: [
            // The probes: a port past 65535, no host, an unclosed bracket, a word for a port, port 0.
            (
                "health:\n  - http: http://127.0.0.1:80800/",
                "up.yml:11: health[1]: http: \"http://127.0.0.1:80800/\": port 80800 is out of range (expected 1-65535)"
            ),
            ("health:\n  - http: http://", "up.yml:11: health[1]: http: \"http://\" has no host (expected http://HOST:PORT/PATH)"),
            (
                "health:\n  - http: http://[::1",
                "up.yml:11: health[1]: http: \"http://[::1\": \"[\" is not closed by \"]\" (expected [IPv6]:PORT)"
            ),
            ("health:\n  - tcp: host:abc", "up.yml:11: health[1]: tcp: \"host:abc\": \"abc\" is not a port (expected 1-65535)"),
            ("health:\n  - tcp: 0", "up.yml:11: health[1]: tcp: \"0\": port 0 is out of range (expected 1-65535)"),
            // A templated URL: web2's inventory gives the port.
            (
                "health:\n  - http: \"http://127.0.0.1:{{ app_port }}/\"",
                "up.yml:11: health[1]: http: \"http://127.0.0.1:80800/\": port 80800 is out of range (expected 1-65535) (host web2)"
            ),
            // The secret typo: the real secret would have printed in the plan.
            (
                "secret: [licence_key]",
                "up.yml:10: secret: \"licence_key\" is not a variable of vars:, the inventory or --var (did you mean \"license_key\"?)"
            ),
        ])
    func refusedByBoth(extra: String, message: String) async throws {
        let book = Self.playbook(extra)
        for command in ["check", "plan"] {
            let r = try await Self.fleetup([command], playbook: book)
            #expect(r.status == 2, "\(command): \(r.stdout)")
            #expect(r.stderr == "fleetup: \(message)\n", "\(command)")
            #expect(r.stdout.isEmpty, "\(command)")
            #expect(!r.stdout.contains("s3cr3t") && !r.stderr.contains("s3cr3t"), "\(command)")
        }
    }

    @Test("a secret named right is redacted in the plan")
    func secretRedacted() async throws {
        let r = try await Self.fleetup(["plan"], playbook: Self.playbook("secret: [license_key]"))
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(r.stdout.contains("install --key [REDACTED]"), "\(r.stdout)")
        #expect(!r.stdout.contains("s3cr3t"))
    }
}
