import FleetLocal
import Foundation
import Testing

@testable import FleetTestFleet

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

    /// An Ansible repository folder in the fleet's (0755, with a `home/` for HOME).
    static func repository(in fleet: TestFleet) throws -> String {
        let repo = fleet.directory + "/repo"
        try FileManager.default.createDirectory(atPath: repo + "/home", withIntermediateDirectories: true)
        chmod(repo, 0o755)
        return repo
    }

    @Test("no -i: ansible.cfg's inventory; forks and timeout from it; ping -v names each source; a flag beats it")
    func defaults() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            let repo = try Self.repository(in: fleet)
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

extension AnsibleConfigCommandTests {
    /// An INI inventory of the fleet's hosts with their addresses and ports only: user, key
    /// and known_hosts must come from elsewhere (here, ansible.cfg).
    static func bareInventory(_ fleet: TestFleet, at path: String) throws {
        let lines = fleet.hosts.map { "\($0.name) ansible_host=\($0.address) ansible_port=\($0.sshPort)" }
        try ("[fleet]\n" + lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("remote_user, private_key_file and [ssh_connection] ssh_common_args from ansible.cfg: exec with no flag at all")
    func connection() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let repo = try Self.repository(in: fleet)
            try Self.bareInventory(fleet, at: repo + "/hosts")
            try """
            [defaults]
            inventory = hosts
            remote_user = \(fleet.user)
            private_key_file = \(fleet.clientKey)
            [ssh_connection]
            ssh_common_args = -o UserKnownHostsFile=\(fleet.knownHosts)
            """.write(toFile: repo + "/ansible.cfg", atomically: true, encoding: .utf8)
            let r = try await Self.fleetup(["exec", "--", "echo $FLEET_HOST"], in: repo)
            #expect(r.status == 0 && r.stdout.contains("2 hosts: 2 ok"), "\(r.stdout)\(r.stderr)")
            // Without the config's known_hosts the keys are unknown: refused, so it was the config's.
            try "[defaults]\ninventory = hosts\nremote_user = \(fleet.user)\nprivate_key_file = \(fleet.clientKey)\n".write(
                toFile: repo + "/ansible.cfg", atomically: true, encoding: .utf8)
            let refused = try await Self.fleetup(["exec", "--", "true"], in: repo)
            #expect(refused.status != 0 && refused.stdout.contains("host-key-unknown"), "\(refused.stdout)\(refused.stderr)")
        }
    }

    @Test(
        "[privilege_escalation] become and become_user from ansible.cfg: exec runs through the hosts' real sudo",
        .enabled(if: Namespaces.available, "needs namespaced hosts (root)"))
    func become() async throws {
        var spec = FleetSpec(count: 2)
        spec.namespaces = true
        try await TestFleet.with(spec) { fleet in
            let repo = try Self.repository(in: fleet)
            try Self.bareInventory(fleet, at: repo + "/hosts")
            try """
            [defaults]
            inventory = hosts
            remote_user = deploy
            private_key_file = \(fleet.clientKey)
            [privilege_escalation]
            become = True
            become_user = app
            """.write(toFile: repo + "/ansible.cfg", atomically: true, encoding: .utf8)
            let r = try await Self.fleetup(["exec", "--known-hosts", fleet.knownHosts, "--", "id -un"], in: repo)
            #expect(r.status == 0 && r.stdout.contains("app\n") && !r.stdout.contains("deploy"), "\(r.stdout)\(r.stderr)")
            // --become-user beats ansible.cfg's become_user.
            let root = try await Self.fleetup(
                ["exec", "--known-hosts", fleet.knownHosts, "--become-user", "root", "--", "id -un"], in: repo)
            #expect(root.status == 0 && root.stdout.contains("root\n"), "\(root.stdout)\(root.stderr)")
        }
    }
}
