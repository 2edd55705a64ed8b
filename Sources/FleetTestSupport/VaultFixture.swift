import Foundation

/// The ansible-vault fixtures (Tests/FleetConfigTests/Fixtures/vault/, recorded with
/// ansible-core 2.19.14 by scripts/lib/make-vault-fixtures): where they are, which variables
/// come from vault-encrypted files, the canary values no output may hold, and
/// ansible-inventory's answers as fleetup must print them.
public enum VaultFixture {
    /// The fixtures folder, from this source file's place in the repository.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Tests/FleetConfigTests/Fixtures/vault").standardized.path
    /// The Ansible-style repository: ansible.cfg, hosts, group_vars, host_vars, passwords.
    public static let repo = root + "/repo"

    /// Variables of the repository's vault-encrypted files: ansible-inventory prints their
    /// strings in clear, fleetup as the mask (docs/inventory.md, "ansible-vault").
    public static let vaulted: Set<String> = [
        "vault_db_password", "ansible_become_password", "prod_api_token", "prod_smtp", "prod_admin_keys", "staging_api_token",
        "staging_debug",
    ]

    /// Clear texts inside the vaults; none may reach any output.
    public static let canaries = [
        "fleetup-vault-canary-7f3a", "all-db-secret-3e8d", "prod-token-canary-91c2", "prod-smtp-canary-44b0",
        "staging-token-canary-5d17", "prod01-inline-canary-0b6e", "stage01-inline-canary-c9a4", "AIprodkeyone",
    ]

    /// The become password of the repository (`ansible_become_password` in
    /// group_vars/all/vault.yml, opened by repo/vault-pass.txt).
    public static let becomePassword = "fleetup-vault-canary-7f3a"

    /// ansible-inventory's parsed JSON with every string under a vaulted variable made
    /// `mask`: what fleetup prints for the same files.
    public static func masked(_ value: Any, mask: String, vaultedKey: Bool = false) -> Any {
        switch value {
        case let map as [String: Any]:
            return map.reduce(into: [String: Any]()) { out, entry in
                out[entry.key] = masked(entry.value, mask: mask, vaultedKey: vaultedKey || vaulted.contains(entry.key))
            }
        case let list as [Any]: return list.map { masked($0, mask: mask, vaultedKey: vaultedKey) }
        case let text as String: return vaultedKey ? mask : text
        default: return value  // numbers and booleans of a vault stay readable
        }
    }

    /// A recorded answer (`expected-list.json`, …) as fleetup must print it, parsed.
    public static func expected(_ file: String, mask: String) throws -> NSDictionary {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + file))
        guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let result = masked(parsed, mask: mask) as? NSDictionary
        else { throw CocoaError(.fileReadCorruptFile) }
        return result
    }
}
