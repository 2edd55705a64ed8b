import FleetConfig
import FleetCore
import Testing

/// A name in `secret:` that no layer sets protects nothing: with a typo (`licence_key` for
/// `license_key`) the real secret would print in plans. `check` refuses it, naming the near miss.
@Suite("secret names")
struct SecretNamesTests {
    /// A playbook whose `secret:` lists `names`, one per line from line 4 on.
    static func playbook(_ names: [String]) throws -> Playbook {
        let list = names.map { "  - \($0)\n" }.joined()
        return try PlaybookLoader.parse(
            """
            hosts: app
            vars: {db_password: ""}
            secret:
            \(list)version:
              detect: cat /etc/app-version
            releases: ["1.0.0"]
            steps:
              - name: install
                run: install --key {{ license_key }}
            """, file: "up.yml")
    }

    /// web1 sets license_key; web9 (outside any --limit a test might give) sets api_token.
    static let inventory = Inventory(
        hosts: [
            Host(name: "web1", vars: ["license_key": .string("abc123")]),
            Host(name: "web9", vars: ["api_token": .string("t0k3n")]),
        ],
        groups: ["all": InventoryGroup(name: "all", hosts: ["web1", "web9"])])

    @Test(
        "names that no layer sets, with the near miss",
        arguments: [
            // The typo: British spelling of an inventory variable.
            (
                ["licence_key"], [String: VarValue](),
                ["up.yml:4: secret: \"licence_key\" is not a variable of vars:, the inventory or --var (did you mean \"license_key\"?)"]
            ),
            // A typo of a playbook var is found too.
            (
                ["db_pasword"], [:],
                ["up.yml:4: secret: \"db_pasword\" is not a variable of vars:, the inventory or --var (did you mean \"db_password\"?)"]
            ),
            // Nothing close: no guess.
            (["vault_pass"], [:], ["up.yml:4: secret: \"vault_pass\" is not a variable of vars:, the inventory or --var"]),
            // Each on its own line, in name order.
            (
                ["license_key", "zz_token", "aaa"], [:],
                [
                    "up.yml:6: secret: \"aaa\" is not a variable of vars:, the inventory or --var",
                    "up.yml:5: secret: \"zz_token\" is not a variable of vars:, the inventory or --var",
                ]
            ),
        ])
    func unknown(names: [String], overrides: [String: VarValue], messages: [String]) throws {
        let book = try Self.playbook(names)
        #expect(PlaybookCheck.secretNames(book, inventory: Self.inventory, overrides: overrides).map(\.description) == messages)
    }

    @Test(
        "a name any layer sets is fine",
        arguments: [
            (["db_password"], [String: VarValue]()),  // the playbook's vars
            (["license_key"], [:]),  // an inventory host
            (["api_token"], [:]),  // another host of the inventory, whatever --limit says
            (["deploy_key"], ["deploy_key": .string("k")]),  // --var
        ])
    func known(names: [String], overrides: [String: VarValue]) throws {
        let book = try Self.playbook(names)
        #expect(PlaybookCheck.secretNames(book, inventory: Self.inventory, overrides: overrides).isEmpty)
    }
}
