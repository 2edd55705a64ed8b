import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Testing

/// The command line itself: help, version, and usage errors (exit 2, nothing run).
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
            (["exec", "-i", "a,b,", "--timout", "5", "--", "true"], "Unknown option '--timout'"),  // a typo never becomes the command
            (["exec", "-i", "a,b,", "uname", "-r"], "give the command after --"),
            (["exec", "-i", "a,b,", "--forks", "0", "--", "true"], "--forks must be at least 1"),
            (["exec", "--", "true"], "give an inventory with -i"),
            (["exec", "-i", "a,b,", "--host-key-policy", "trust-all", "--", "true"], "trust-all"),
            (["frobnicate"], "Unexpected argument 'frobnicate'"),
        ])
    func usageErrors(args: [String], message: String) async throws {
        let r = try await fleetup(args)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
