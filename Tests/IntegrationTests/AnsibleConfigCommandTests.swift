import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// ansible.cfg gives the flags their defaults, as in an Ansible repository: no -i, the
/// forks and the timeout from the file, flags still winning; `ping -v` says where each came from.
@Suite("ansible.cfg on the command line")
struct AnsibleConfigCommandTests {
    /// The built fleetup run in `folder` (its ansible.cfg found there), ANSIBLE_* cleared.
    static func fleetup(_ args: [String], in folder: String, env extra: [String: String] = [:]) async throws -> LocalProcess.Exit {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ANSIBLE_") }
        env["HOME"] = folder + "/home"
        env.merge(extra) { $1 }
        return try await TestFleet.runProgram(
            "/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", folder, try TestFleet.builtProduct("fleetup")] + args, environment: env)
    }

    @Test("no -i: ansible.cfg's inventory; forks and timeout from it; ping -v names each source; a flag beats it")
    func defaults() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            let repo = fleet.directory + "/repo"
            try FileManager.default.createDirectory(atPath: repo + "/home", withIntermediateDirectories: true)
            chmod(repo, 0o755)
            try "[defaults]\ninventory = ../inventory.yml\nforks = 2\ntimeout = 15\n[colors]\nok = green\n".write(
                toFile: repo + "/ansible.cfg", atomically: true, encoding: .utf8)
            let exec = try await Self.fleetup(["exec", "--known-hosts", fleet.knownHosts, "--", "echo $FLEET_HOST"], in: repo)
            #expect(exec.status == 0 && exec.stdout.contains("3 hosts: 3 ok"), "\(exec.stdout)\(exec.stderr)")
            let ping = try await Self.fleetup(["ping", "-v", "--known-hosts", fleet.knownHosts], in: repo, env: ["ANSIBLE_TIMEOUT": "20"])
            #expect(ping.status == 0, "\(ping.stderr)")
            #expect(ping.stdout.hasPrefix("ansible.cfg: \(repo)/ansible.cfg\n"), "\(ping.stdout)")
            #expect(ping.stdout.contains("  inventory = \(repo)/../inventory.yml  (\(repo)/ansible.cfg:2)\n"))
            #expect(
                ping.stdout.contains("  forks = 2  (\(repo)/ansible.cfg:3)\n")
                    && ping.stdout.contains("  timeout = 20  (ANSIBLE_TIMEOUT)\n"))
            // -i beats ansible.cfg's inventory: one host given, one host asked.
            let one = try await Self.fleetup(
                ["ping", "-i", fleet.inventoryPath, "--limit", fleet.hosts[0].name, "--known-hosts", fleet.knownHosts], in: repo)
            #expect(one.status == 0 && one.stdout.contains("1 host: 1 ok"), "\(one.stdout)")
        }
    }
}
