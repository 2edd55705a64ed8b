import FleetCore
import Testing

@Suite("shell quoting: the one place a value becomes a shell word")
struct ShellQuoteTests {
    @Test(
        "quote",
        arguments: [
            ("plain", "plain"),  // safe characters stay bare
            ("/opt/app-1.2/bin", "/opt/app-1.2/bin"),  // paths too
            ("", "''"),  // empty is a word, not nothing
            ("two words", "'two words'"),
            ("it's", #"'it'\''s'"#),  // a quote closes, is escaped, reopens
            ("$(rm -rf /)", "'$(rm -rf /)'"),  // no expansion inside single quotes
            ("a;b|c&d", "'a;b|c&d'"),
            ("`id`", "'`id`'"),
            ("line\nbreak", "'line\nbreak'"),
            ("héllo", "'héllo'"),  // non-ASCII is quoted, not mangled
            ("*", "'*'"),  // no globbing
        ])
    func quote(value: String, expected: String) {
        #expect(ShellQuote.quote(value) == expected)
    }

    @Test("join quotes each word")
    func join() {
        #expect(ShellQuote.join(["mv", "-f", "--", "a b", "c"]) == "mv -f -- 'a b' c")
    }
}

@Suite("connection settings from Ansible variables")
struct ConnectionSettingsTests {
    @Test("ansible_ names")
    func ansibleNames() {
        let s = ConnectionSettings(
            hostName: "web1",
            vars: [
                "ansible_host": .string("10.0.0.5"), "ansible_port": .int(2222),
                "ansible_user": .string("deploy"), "ansible_ssh_private_key_file": .string("~/.ssh/k"),
            ])
        #expect(s.address == "10.0.0.5")
        #expect(s.port == 2222)
        #expect(s.user == "deploy")
        #expect(s.identityFiles == ["~/.ssh/k"])
        #expect(s.endpoint == "10.0.0.5:2222")
    }

    @Test("ansible_ssh_ spellings, INI text ports, and defaults")
    func sshSpellingsAndDefaults() {
        let s = ConnectionSettings(
            hostName: "db1",
            vars: [
                "ansible_ssh_host": .string("::1"), "ansible_ssh_port": .string("2200"), "ansible_ssh_user": .string("ops"),
            ])
        #expect(s.address == "::1")
        #expect(s.port == 2200)
        #expect(s.user == "ops")
        #expect(s.endpoint == "[::1]:2200")
        let bare = ConnectionSettings(hostName: "db2", vars: [:])
        #expect(bare.address == "db2")
        #expect(bare.port == 22)
        #expect(bare.user == nil)
        #expect(bare.identityFiles.isEmpty)
    }
}

@Suite("secrets")
struct SecretTests {
    @Test("a secret never prints, in any interpolation")
    func neverPrints() {
        let s = Secret("hunter2")
        let v = VarValue.secret(s)
        #expect("\(s)" == "[REDACTED]")
        #expect(String(reflecting: s) == "[REDACTED]")
        #expect(!"\(v)".contains("hunter2"))
        #expect(!String(reflecting: v).contains("hunter2"))
        #expect(s.reveal() == "hunter2")
        #expect(v.scalarText == "hunter2")
    }
}
