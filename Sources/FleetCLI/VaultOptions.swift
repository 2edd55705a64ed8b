import ArgumentParser
import FleetConfig
import FleetVault
import Foundation

/// `--vault-id` and `--vault-password-file`, with ansible.cfg's `vault_identity_list` and
/// `vault_password_file` (and their `ANSIBLE_*` variables): the passwords that open
/// vault-encrypted files and `!vault` values, tried in Ansible's order (docs/inventory.md,
/// "ansible-vault").
struct VaultOptions: ParsableArguments {
    @Option(
        name: .customLong("vault-id"),
        help: ArgumentHelp(
            "A vault password: ID@FILE, or FILE for the id 'default'; an executable FILE is run and prints it (repeatable).",
            valueName: "[ID@]FILE"))
    var vaultIDs: [String] = []

    @Option(
        name: .customLong("vault-password-file"),
        help: ArgumentHelp("The file (or script) holding the vault password of the id 'default' (repeatable).", valueName: "FILE"))
    var passwordFiles: [String] = []

    /// Where the passwords come from: ansible.cfg's identity list first, then the flags,
    /// then ansible.cfg's password file, as Ansible orders them.
    func sources() throws -> VaultKeyring.Sources {
        let config = try AnsibleConfigDefaults.config()
        let list = (config[.vaultIdentityList]?.value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return VaultKeyring.Sources(
            identityList: list.filter { !$0.isEmpty }, vaultIDs: vaultIDs,
            passwordFiles: passwordFiles + [config[.vaultPasswordFile]?.value].compactMap { $0 }.filter { !$0.isEmpty })
    }

    /// The passwords, read once (a script runs once); nil when none were asked for.
    func keyring() throws -> VaultKeyring? {
        let sources = try sources()
        if sources.isEmpty { return nil }
        do { return try VaultKeyring.load(sources) } catch { throw ValidationError(error.description) }
    }
}
