import FleetSSH
import FleetTestSupport
import Foundation
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

    @Test("usage errors exit 2 and say what was expected", arguments: [
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

    @Test("hosts behind a jump host are refused before any connection, naming the host and the jump")
    func jumpHostsRefused() async throws {
        let inventory = NSTemporaryDirectory() + "jump-\(getpid()).ini"
        // Loopback addresses and a closed port, so even a regression could reach nothing.
        try "[web]\nweb1 ansible_host=127.0.0.1 ansible_port=1 ansible_ssh_common_args='-o ProxyJump=ops@bastion.example.com:2222'\nweb2 ansible_host=127.0.0.1 ansible_port=1\n"
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: inventory) }
        let r = try await fleetup(["exec", "-i", inventory, "--", "true"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("host web1: jump host ops@bastion.example.com:2222 (ProxyJump) is not supported yet"))
        #expect(r.stdout.isEmpty)
    }
}
