import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// Hostile values on the command line (issue 18): each one once crashed fleetup (a trap,
/// signal 4) or read forever; now each exits 2 with a message naming what was expected.
/// Nothing connects: every inventory is 127.0.0.1 on a closed port, and the errors come first.
@Suite("hostile command lines")
struct HostileCommandLineTests {
    func fleetup(_ args: [String]) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), args)
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .path
    static let playbook = root + "/playbooks/mattermost.yml"
    /// Only 127.0.0.1, on a closed port, and in no group the playbook names: even were a
    /// value accepted, the run would stop at its pattern, never connect anywhere.
    static let inventory = "127.0.0.1:1,"

    @Test(
        "seconds and durations past 30 days, inf or nan exit 2 instead of trapping",
        arguments: [
            // the conversion to Int64 milliseconds trapped on each of these.
            (
                ["exec", "-i", "127.0.0.1:1,", "--connect-timeout", "inf", "--", "true"],
                "--connect-timeout must be a positive number of seconds, at most 2592000 (30d)"
            ),
            (
                ["exec", "-i", "127.0.0.1:1,", "--connect-timeout", "1e400", "--", "true"],
                "--connect-timeout must be a positive number of seconds, at most 2592000 (30d)"
            ),
            (
                ["exec", "-i", "127.0.0.1:1,", "--timeout", "1e300", "--", "true"],
                "--timeout must be a positive number of seconds, at most 2592000 (30d)"
            ),
            (
                ["exec", "-i", "127.0.0.1:1,", "--timeout", "nan", "--", "true"],
                "--timeout must be a positive number of seconds, at most 2592000 (30d)"
            ),
            (
                ["plan", playbook, "-i", inventory, "--detect", "--timeout", "1e300"],
                "--timeout must be a positive number of seconds, at most 2592000 (30d)"
            ),
            (
                ["status", "-i", "127.0.0.1:1,", "--version-cmd", "true", "--timeout=-inf"],
                "--timeout must be a positive number of seconds, at most 2592000 (30d)"
            ),
            (
                ["run", playbook, "-i", inventory, "--pause", "99999999999999999999d"],
                "--pause 99999999999999999999d: expected a duration of at most 30d (the longest fleetup accepts)"
            ),
            (
                ["run", playbook, "-i", inventory, "--soak", "31d"],
                "--soak 31d: expected a duration of at most 30d (the longest fleetup accepts)"
            ),
            // resume took --var values unchecked and trapped on one without "=" (scripts/fuzz).
            (["resume", "--var", "t0}}"], "--var t0}}: expected NAME=VALUE (a variable name, then =)"),
        ])
    func seconds(args: [String], message: String) async throws {
        let r = try await fleetup(args)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    @Test(
        "devices given as files are refused by name, never read forever",
        arguments: [
            (
                ["inventory", "-i", "/dev/zero", "--list"], Int32(2),
                "/dev/zero: is a device, not a file (fleetup reads regular files and pipes)"
            ),
            (
                ["inventory", "-i", "127.0.0.1,", "--limit", "@/dev/zero", "--list"], 2,
                "/dev/zero: is a device, not a file (fleetup reads regular files and pipes)"
            ),
            (["check", "/dev/zero", "-i", "127.0.0.1,"], 2, "/dev/zero: is a device, not a file (fleetup reads regular files and pipes)"),
            // the key is read before connecting; the host is then unreachable, with the reason.
            (
                ["exec", "-i", "127.0.0.1:1,", "--private-key", "/dev/zero", "--", "true"], 3,
                "key-problem: identity file /dev/zero is a device, not a file (fleetup reads regular files and pipes)"
            ),
        ])
    func devices(args: [String], status: Int32, message: String) async throws {
        let r = try await fleetup(args)
        #expect(r.status == status, "\(r.stderr)")
        #expect((r.stdout + r.stderr).contains(message), "\(r.stdout)\(r.stderr)")
    }
}
