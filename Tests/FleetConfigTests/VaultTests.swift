import FleetCore
import FleetLocal
import FleetTestSupport
import FleetVault
import Foundation
import Testing

@testable import FleetConfig

/// ansible-vault against files the real `ansible-vault` (ansible-core 2.19.14) wrote
/// (Fixtures/vault/, made by scripts/lib/make-vault-fixtures): every vector opens to its
/// plaintext byte for byte; a changed byte, a wrong password or a missing vault id is an
/// error naming what to do; an Ansible-style repository loads as `ansible-inventory --list`
/// shows it, except that values of vault-encrypted files print as secrets.
@Suite("ansible-vault")
struct VaultTests {
    static let root = VaultFixture.root
    static let vectors = ["v11", "v12-ops", "empty", "block16", "utf8-17", "unicode-pass"]

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    @Test("every vector written by ansible-vault opens to its plaintext, byte for byte", arguments: vectors)
    func vector(_ name: String) throws {
        let password = try Self.read("vectors/\(name).pass")
        let keyring = VaultKeyring(passwords: [(id: "default", password: password)])
        let plain = try keyring.decrypt(try Self.read("vectors/\(name).vault"))
        #expect(Array(plain.utf8) == Array(try Self.read("vectors/\(name).plain").utf8))
    }

    @Test("1.2 text names its vault id; the password of another id still opens it, as in Ansible")
    func vaultIDs() throws {
        let text = try Self.read("vectors/v12-ops.vault")
        #expect(try VaultText(text).vaultID == "ops")
        #expect(try VaultText(try Self.read("vectors/v11.vault")).vaultID == nil)
        let password = try Self.read("vectors/v12-ops.pass")
        // Under another id: tried after the matching ones (none here), and it opens.
        let other = VaultKeyring(passwords: [(id: "wrong", password: "nope"), (id: "default", password: password)])
        #expect(try other.decrypt(text).hasPrefix("ops_token:"))
    }

    @Test("a wrong password, or no password for the text's vault id, says which ids were tried")
    func wrongPassword() throws {
        let text = try Self.read("vectors/v12-ops.vault")
        let keyring = VaultKeyring(passwords: [(id: "default", password: "not-it"), (id: "prod", password: "nor-this")])
        #expect(throws: VaultError.noPasswordOpens(vaultID: "ops", tried: ["default", "prod"])) { try keyring.decrypt(text) }
        let message = VaultError.noPasswordOpens(vaultID: "ops", tried: ["default", "prod"]).description
        #expect(message.contains("vault id \"ops\"") && message.contains("--vault-id ops@FILE"))
        let v11 = try Self.read("vectors/v11.vault")
        let wrong = VaultError.noPasswordOpens(vaultID: nil, tried: ["default"])
        #expect(throws: wrong) { try VaultKeyring(passwords: [(id: "default", password: "not-it")]).decrypt(v11) }
        #expect(wrong.description.contains("HMAC"))
        #expect(throws: VaultError.noPasswords) { try VaultKeyring.none.decrypt(v11) }
    }

    @Test("any hex digit of the body changed: refused (HMAC or format), never opened, never a crash")
    func tampered() throws {
        let text = try Self.read("vectors/v11.vault")
        let keyring = VaultKeyring(passwords: [(id: "default", password: try Self.read("vectors/v11.pass"))])
        var lines = text.split(separator: "\n").map(String.init)
        var refused = 0
        for row in 1..<lines.count {
            let original = lines[row]
            for column in stride(from: row % 5, to: original.count, by: 5) {
                var chars = Array(original)
                chars[column] = chars[column] == "3" ? "4" : "3"
                lines[row] = String(chars)
                do {
                    _ = try keyring.decrypt(lines.joined(separator: "\n"))
                    Issue.record("a change at line \(row + 1), column \(column + 1) was not noticed")
                } catch {
                    refused += 1
                }
                lines[row] = original
            }
        }
        #expect(refused > 50)
    }

    @Test(
        "malformed or unsupported vault text is refused with the reason",
        arguments: [
            ("$ANSIBLE_VAULT;1.1;AES256\n", "nothing follows the header"),
            ("$ANSIBLE_VAULT;1.0;AES\n6162\n", "1.0"),
            ("$ANSIBLE_VAULT;1.1;AES128\n6162\n", "cipher \"AES128\""),
            ("$ANSIBLE_VAULT;2.0;AES256\n6162\n", "\"2.0\" is not known"),
            ("$ANSIBLE_VAULT;1.1\n6162\n", "lacks its version and cipher"),
            ("$ANSIBLE_VAULT;1.1;AES256\nzz\n", "not hexadecimal"),
            ("$ANSIBLE_VAULT;1.1;AES256\n616263\n", "salt, an HMAC and a ciphertext"),
            ("$ANSIBLE_VAULT;1.1;AES256\n" + hex("6161\n6262\n6363"), "wrong size"),
            ("$ANSIBLE_VAULT;1.1;AES256\n" + hex("zz\n6262\n6363"), "not hexadecimal"),
        ])
    func malformed(_ text: String, _ expected: String) {
        let keyring = VaultKeyring(passwords: [(id: "default", password: "x")])
        do {
            _ = try keyring.decrypt(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    static func hex(_ s: String) -> String { s.utf8.map { String(format: "%02x", $0) }.joined() + "\n" }

    // MARK: - Passwords from files and scripts

    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "vault-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a password file loses its surrounding white space; a script's output its line ends")
    func passwordSources() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let v11 = try Self.read("vectors/v11.vault")
        let password = try Self.read("vectors/v11.pass")
        try LocalProcess.writeFile(dir + "/file", Array("  \(password)\n\n".utf8), mode: 0o600)
        try LocalProcess.writeFile(dir + "/script.sh", Array("#!/bin/sh\nprintf '%s\\r\\n' '\(password)'\n".utf8), mode: 0o755)
        for source in ["file", "script.sh"] {
            let keyring = try VaultKeyring.load(.init(passwordFiles: [dir + "/" + source]))
            #expect(keyring.ids == ["default"])
            #expect(try keyring.decrypt(v11).hasSuffix("\n"), "\(source)")
        }
    }

    @Test("a …-client script is asked for the vault id it serves (--vault-id ID), as Ansible asks")
    func clientScript() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let password = try Self.read("vectors/v12-ops.pass")
        // Prints the password only when asked for "ops"; exit 2 is "no such id" to Ansible.
        let script =
            "#!/bin/sh\n[ \"$1\" = --vault-id ] && [ \"$2\" = ops ] && { echo '\(password)'; exit 0; }\necho \"unknown: $*\" >&2; exit 2\n"
        try LocalProcess.writeFile(dir + "/keys-client.sh", Array(script.utf8), mode: 0o755)
        let keyring = try VaultKeyring.load(.init(vaultIDs: ["ops@" + dir + "/keys-client.sh"]))
        #expect(try keyring.decrypt(try Self.read("vectors/v12-ops.vault")).contains("ops-vector-canary-e1f5"))
        #expect {
            try VaultKeyring.load(.init(vaultIDs: ["prod@" + dir + "/keys-client.sh"]))
        } throws: { error in
            "\(error)".contains("exited with 2 (it has no password for vault id prod): unknown: --vault-id prod")
        }
    }

    @Test(
        "password sources that give nothing are refused before any file is read",
        arguments: [
            ("missing", "does not exist"), ("empty", "is empty"), ("folder", "is a folder"), ("fails.sh", "exited with 3: no vault here"),
            ("silent.sh", "printed no password"), ("prompt", "does not prompt"),
        ])
    func badSources(_ name: String, _ expected: String) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try LocalProcess.writeFile(dir + "/empty", Array(" \n".utf8), mode: 0o600)
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
        try LocalProcess.writeFile(dir + "/fails.sh", Array("#!/bin/sh\necho 'no vault here' >&2\nexit 3\n".utf8), mode: 0o755)
        try LocalProcess.writeFile(dir + "/silent.sh", Array("#!/bin/sh\necho\n".utf8), mode: 0o755)
        let source = name == "prompt" ? "prod@prompt" : "prod@" + dir + "/" + name
        #expect {
            try VaultKeyring.load(.init(vaultIDs: [source]))
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("Ansible's order: ansible.cfg's identity list, then --vault-id, then the password files (id default)")
    func order() {
        let sources = VaultKeyring.Sources(identityList: ["ops@a"], vaultIDs: ["prod@b", "c", "@d"], passwordFiles: ["e"])
        #expect(sources.slugs.map { "\($0.id)@\($0.file)" } == ["ops@a", "prod@b", "default@c", "default@d", "default@e"])
    }
}

/// The Ansible-style repository (Fixtures/vault/repo: ansible.cfg, an INI inventory,
/// group_vars with a vault per group — three passwords, one of them a script's — and inline
/// `!vault` values in host_vars) against `ansible-inventory`'s recorded answers.
@Suite("ansible-vault: a vaulted repository")
struct VaultRepositoryTests {
    static let repo = VaultFixture.repo

    static func keyring() throws -> VaultKeyring {
        try VaultKeyring.load(
            .init(vaultIDs: ["prod@\(repo)/prod-pass.txt", "staging@\(repo)/staging-pass.sh"], passwordFiles: ["\(repo)/vault-pass.txt"]))
    }

    static func json(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    @Test("--list and --host equal ansible-inventory's, vaulted files' values masked; inline !vault shows its vault text")
    func listEqualsAnsible() throws {
        var warnings: [ConfigWarning] = []
        let inventory = try InventoryLoader.load([Self.repo + "/hosts"], vault: try Self.keyring(), warnings: &warnings)
        #expect(warnings.isEmpty, "\(warnings)")
        let list = PythonJSON.render(InventoryRender.list(inventory, hosts: nil))
        #expect(try Self.json(list) == VaultFixture.expected("expected-list.json", mask: Secret.mask))
        // The inline value is Ansible's exact object; the vaulted files' values are masked.
        #expect(list.contains(#""prod01_secret": {"#) && list.contains(#""__ansible_vault": "$ANSIBLE_VAULT;1.2;AES256;prod\n"#))
        #expect(list.contains(#""prod_api_token": "[REDACTED]""#))
        let host = PythonJSON.render(.map(InventoryRender.hostVars(try #require(inventory.host(named: "prod01")))))
        #expect(try Self.json(host) == VaultFixture.expected("expected-host-prod01.json", mask: Secret.mask))
        let yaml = InventoryRender.yaml(InventoryRender.yamlList(inventory, hosts: nil))
        #expect(yaml.contains("prod01_secret: !vault |\n"))
        for canary in VaultFixture.canaries {
            #expect(!list.contains(canary) && !host.contains(canary) && !yaml.contains(canary), "\(canary) printed")
        }
    }

    @Test("decrypted values reach the one place that needs them: the host's variables, as secrets")
    func valuesAreSecrets() throws {
        var warnings: [ConfigWarning] = []
        let inventory = try InventoryLoader.load([Self.repo + "/hosts"], vault: try Self.keyring(), warnings: &warnings)
        let prod01 = try #require(inventory.host(named: "prod01"))
        #expect(prod01.vars["ansible_become_password"] == .secret(Secret("fleetup-vault-canary-7f3a")))
        #expect(prod01.vars["prod01_secret"]?.scalarText == "prod01-inline-canary-0b6e")
        #expect("\(prod01.vars["prod01_secret"]!)".contains("prod01-inline-canary") == false)
        guard case .map(let smtp)? = prod01.vars["prod_smtp"] else { Issue.record("prod_smtp is not a mapping"); return }
        #expect(smtp["port"]?.intValue == 587 && smtp["password"]?.scalarText == "prod-smtp-canary-44b0")
        let stage01 = try #require(inventory.host(named: "stage01"))
        #expect(stage01.vars["staging_debug"]?.boolValue == true)
        #expect(stage01.vars["stage01_secret"]?.scalarText == "stage01-inline-canary-c9a4")
    }

    @Test("a whole inventory file in a vault: hosts and groups as written, every string a secret that still connects")
    func encryptedInventory() throws {
        let dir = VaultTests.root + "/encrypted-inventory"
        let keyring = try VaultKeyring.load(.init(passwordFiles: [dir + "/pass.txt"]))
        var warnings: [ConfigWarning] = []
        let inventory = try InventoryLoader.load([dir + "/hosts.yml"], vault: keyring, warnings: &warnings)
        let list = PythonJSON.render(InventoryRender.list(inventory, hosts: nil))
        let expected = try VaultRepositoryTests.json(try VaultTests.read("encrypted-inventory/expected-list.json"))
        let hostVars = try #require((expected["_meta"] as? [String: Any])?["hostvars"] as? [String: [String: Any]])
        #expect(Set(inventory.hosts.map(\.name)) == Set(hostVars.keys))
        // Every string of the file is masked; the structure (groups, hosts) is Ansible's.
        let maskedAll = expected.mutableCopy() as! NSMutableDictionary
        let meta = (expected["_meta"] as! NSDictionary).mutableCopy() as! NSMutableDictionary
        meta["hostvars"] = hostVars.mapValues { $0.mapValues { ($0 is String) ? Secret.mask : $0 } }
        maskedAll["_meta"] = meta
        #expect(try Self.json(list) == maskedAll)
        let first = try #require(inventory.hosts.first)
        #expect(first.connection.address == hostVars[first.name]?["ansible_host"] as? String)
        #expect(first.connection.port == hostVars[first.name]?["ansible_port"] as? Int)
        #expect(!list.contains("inventory-canary-6a21"))
    }

    @Test("a wrong password, a missing vault id, a changed HMAC: the file and line named, nothing loaded")
    func refusals() throws {
        let dir = try VaultTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Self.repo, toPath: dir + "/repo")
        let all = dir + "/repo/group_vars/all/vault.yml"
        func load(_ keyring: VaultKeyring) throws {
            var ignored: [ConfigWarning] = []
            _ = try InventoryLoader.load([dir + "/repo/hosts"], vault: keyring, warnings: &ignored)
        }

        let wrong = VaultKeyring(passwords: [
            ("default", "not-it"), ("prod", "fleetup-prod-vault-pw"), ("staging", "fleetup-staging-vault-pw"),
        ])
        #expect { try load(wrong) } throws: { "\($0)".hasPrefix(all + ":1: vault-encrypted file: ") && "\($0)".contains("do not open it") }

        let noStaging = VaultKeyring(passwords: [("default", "fleetup-default-vault-pw"), ("prod", "fleetup-prod-vault-pw")])
        #expect { try load(noStaging) } throws: {
            "\($0)".hasPrefix(dir + "/repo/group_vars/staging/vault.yml:1:")
                && "\($0)".contains("vault id \"staging\", which has no password here")
        }

        // The inline value of prod01 with only the default password: its line is named.
        let noProd = VaultKeyring(passwords: [("default", "fleetup-default-vault-pw"), ("staging", "fleetup-staging-vault-pw")])
        try FileManager.default.removeItem(atPath: dir + "/repo/group_vars/prod")
        #expect { try load(noProd) } throws: {
            "\($0)".hasPrefix(dir + "/repo/host_vars/prod01.yml:4: !vault value: encrypted for vault id \"prod\"")
        }

        try FileManager.default.removeItem(atPath: all)
        try FileManager.default.copyItem(atPath: VaultTests.root + "/bad/tampered.yml", toPath: all)
        #expect { try load(try VaultRepositoryTests.keyring()) } throws: { "\($0)".hasPrefix(all + ":1:") && "\($0)".contains("HMAC") }
    }

    @Test("no password at all: a vaulted file is refused saying how to give one; inline values stay encrypted, as in Ansible")
    func noPasswords() throws {
        var ignored: [ConfigWarning] = []
        #expect { _ = try InventoryLoader.load([Self.repo + "/hosts"], warnings: &ignored) } throws: {
            "\($0)".contains(
                "group_vars/all/vault.yml:1: vault-encrypted file: vault-encrypted, and no vault password was given (--vault-password-file")
        }
        var warnings: [ConfigWarning] = []
        let inventory = try InventoryLoader.load([VaultTests.root + "/bad/inline-only/hosts"], warnings: &warnings)
        #expect(warnings.contains { $0.description.contains("prod01.yml:") && $0.description.contains("kept encrypted") })
        guard case .map(let kept)? = inventory.host(named: "prod01")?.vars["prod01_secret"] else {
            Issue.record("the inline value is not kept as Ansible's __ansible_vault object")
            return
        }
        #expect(kept["__ansible_vault"]?.stringValue?.hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod") == true)
    }
}
