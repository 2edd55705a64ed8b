import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Testing

/// The command line itself: help, version, and usage errors (exit 2, one `fleetup:` line,
/// nothing run).
@Suite("command line usage")
struct UsageTests {
    func fleetup(_ args: [String]) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), args)
    }

    @Test("help and version exit 0", arguments: [["--help"], ["exec", "--help"], ["help", "exec"], ["inventory", "-h"], ["--version"]])
    func help(args: [String]) async throws {
        let r = try await fleetup(args)
        #expect(r.status == 0)
        #expect(!r.stdout.isEmpty)
        #expect(!r.stdout.contains("CommandError"))
    }

    @Test(
        "usage errors exit 2 and say what was expected",
        arguments: [
            // a typo never becomes the command
            (
                ["exec", "-i", "a,b,", "--timout", "5", "--", "true"],
                "fleetup: unknown option '--timout'. Did you mean '--timeout'? (see 'fleetup exec --help')"
            ),
            (["exec", "-i", "a,b,", "uname", "-r"], "give the command after --"),
            (["exec", "-i", "a,b,", "--forks", "0", "--", "true"], "--forks must be at least 1"),
            (["exec", "--", "true"], "give an inventory with -i"),
            (["exec", "-i", "a,b,", "--host-key-policy", "trust-all", "--", "true"], "trust-all"),
            (["frobnicate"], "fleetup: unexpected argument 'frobnicate' (see 'fleetup --help')"),
        ])
    func usageErrors(args: [String], message: String) async throws {
        let r = try await fleetup(args)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        // One line per problem, each starting with fleetup: (docs/cli.md).
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("fleetup: "), "\(r.stderr)")
    }
}
