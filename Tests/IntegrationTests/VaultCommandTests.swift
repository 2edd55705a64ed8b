import FleetCore
import FleetLocal
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// An Ansible shop's repository as it is (ansible.cfg, group_vars vaults, inline `!vault`)
/// through the built fleetup: `inventory --list` without `-i` equals ansible-inventory's
/// recorded answer, and on namespaced hosts a sudo password that only the vault holds makes
/// `exec -b` work, without ever being printed.
@Suite("ansible-vault through the command line")
struct VaultCommandTests {
    /// fleetup run in `folder` (where ansible.cfg is found), with no ANSIBLE_* variable of
    /// the caller's.
    static func fleetup(
        in folder: String, _ args: [String], environment extra: [String: String] = [:]
    ) async throws
        -> LocalProcess.Exit
    {
        let bin = try TestFleet.builtProduct("fleetup")
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ANSIBLE_") }
        env.merge(extra) { _, new in new }
        return try await TestFleet.runProgram("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", folder, bin] + args, environment: env)
    }

    static func copyOfRepository() throws -> String {
        let dir = NSTemporaryDirectory() + "vault-repo-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: VaultFixture.repo, toPath: dir)
        return dir
    }

    @Test("no -i: ansible.cfg's inventory and vault_password_file, two --vault-id (one a script): ansible-inventory's --list")
    func listWithoutInventoryFlag() async throws {
        let repo = try Self.copyOfRepository()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        let list = try await Self.fleetup(
            in: repo, ["inventory", "--list", "--vault-id", "prod@prod-pass.txt", "--vault-id", "staging@staging-pass.sh"])
        #expect(list.status == 0, "\(list.stderr)")
        let ours = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? NSDictionary)
        #expect(ours == (try VaultFixture.expected("expected-list.json", mask: Secret.mask)))
        #expect(list.stdout.contains(#""__ansible_vault": "$ANSIBLE_VAULT;1.2;AES256;prod"#))
        for canary in VaultFixture.canaries { #expect(!(list.stdout + list.stderr).contains(canary), "\(canary) printed") }

        // Without the staging password: exit 2, the file named, nothing printed on stdout.
        let missing = try await Self.fleetup(in: repo, ["inventory", "--list", "--vault-id", "prod@prod-pass.txt"])
        #expect(missing.status == 2 && missing.stdout.isEmpty)
        #expect(
            missing.stderr.contains(
                "fleetup: \(repo)/group_vars/staging/vault.yml:1: vault-encrypted file: encrypted for vault id \"staging\""),
            "\(missing.stderr)")
        // ANSIBLE_VAULT_PASSWORD_FILE beats ansible.cfg's, as in Ansible: a wrong one is refused.
        try LocalProcess.writeFile(repo + "/wrong.txt", Array("not-it\n".utf8))
        let wrong = try await Self.fleetup(
            in: repo, ["inventory", "--list", "--vault-id", "prod@prod-pass.txt", "--vault-id", "staging@staging-pass.sh"],
            environment: ["ANSIBLE_VAULT_PASSWORD_FILE": repo + "/wrong.txt"])
        #expect(
            wrong.status == 2 && wrong.stderr.contains("group_vars/all/vault.yml:1:") && wrong.stderr.contains("HMAC"), "\(wrong.stderr)")
    }

    @Test(
        "a sudo password only the vault holds: exec -b works with --vault-password-file, and the password is never printed",
        .enabled(if: Namespaces.available, "needs root, ip (iproute2), unshare and nsenter"))
    func becomePasswordFromVault() async throws {
        var spec = FleetSpec(groups: [.init("guarded", 2)])
        spec.namespaces = true
        spec.sudoPassword = .init(group: "guarded", password: VaultFixture.becomePassword)
        try await TestFleet.with(spec) { fleet in
            // The repository's vault (ansible_become_password, default password) beside the fleet's inventory.
            let vars = fleet.directory + "/group_vars/guarded"
            try FileManager.default.createDirectory(atPath: vars, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: VaultFixture.repo + "/group_vars/all/vault.yml", toPath: vars + "/vault.yml")
            let args = ["exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "-b"]
            let command = ["--", "id -un; sudo -k"]
            let opened = try await Self.fleetup(
                in: fleet.directory, args + ["--vault-password-file", VaultFixture.repo + "/vault-pass.txt"] + command)
            #expect(opened.status == 0 && opened.stdout.contains("2 hosts: 2 ok"), "\(opened.stdout)\(opened.stderr)")
            #expect(opened.stdout.contains("guarded[01-02] (2): exit 0\nroot\n"), "\(opened.stdout)")
            // Without the vault's password nothing is contacted: the vault is refused first.
            let locked = try await Self.fleetup(in: fleet.directory, args + command)
            #expect(locked.status == 2 && locked.stdout.isEmpty, "\(locked.stdout)")
            #expect(locked.stderr.contains("guarded/vault.yml:1: vault-encrypted file: vault-encrypted, and no vault password was given"))
            for text in [opened.stdout, opened.stderr, locked.stdout, locked.stderr] {
                #expect(!text.contains(VaultFixture.becomePassword))
            }
        }
    }
}
