import FleetCore
import Foundation
import Testing

import struct FleetCore.Host

@testable import FleetSSH

/// A machine made of a table: user `op` (uid 1000) at /home/op on ctl.example.com.
func sshEnvironment(
    _ files: [String: String], owner: UInt32 = 1000,
    variables: [String: String] = ["SSH_AUTH_SOCK": "/tmp/agent.sock", "HOME": "/home/op"]
) -> SSHConfigEnvironment {
    SSHConfigEnvironment(
        home: "/home/op", localUser: "op", userID: 1000, localHostname: "ctl.example.com",
        variables: variables, files: .memory(files, owner: owner))
}

/// `~/.ssh/config` with `text` (and other files), resolved for `host` with `vars`.
func resolve(
    _ text: String, _ host: String, _ vars: [String: VarValue] = [:], files: [String: String] = [:],
    flags: SSHRunFlags = SSHRunFlags()
) throws -> ConnectionSettings {
    let env = sshEnvironment(files.merging(["/home/op/.ssh/config": text]) { a, _ in a })
    return try SSHConfigResolver(files: .standard, flags: flags, environment: env).resolve(Host(name: host, vars: vars))
}

func resolveError(
    _ text: String, _ host: String = "h", _ vars: [String: VarValue] = [:],
    files: [String: String] = [:]
) -> String? {
    do {
        _ = try resolve(text, host, vars, files: files)
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite("ssh_config: resolution and precedence")
struct SSHConfigResolverTests {
    static let bastion = """
        Host bastion
            HostName 198.51.100.7
            User ops
            Port 2222
            IdentityFile ~/.ssh/ops_key
        Host *.internal
            ProxyJump bastion
            User deploy
            IdentityFile ~/.ssh/deploy_key
        Host web-alias
            HostName 127.0.0.1
            Port 2201
            IdentityFile /fleet/id_ed25519
            UserKnownHostsFile /fleet/known_hosts
        Host *
            ServerAliveInterval 30
        """
    static let keys = ["/home/op/.ssh/ops_key": "k", "/home/op/.ssh/deploy_key": "k", "/fleet/id_ed25519": "k"]

    @Test("an ssh_config alias gives address, port, key and known_hosts")
    func alias() throws {
        let s = try resolve(Self.bastion, "web-alias", files: Self.keys)
        #expect(s.hostName == "web-alias")
        #expect(s.endpoint == "127.0.0.1:2201")
        #expect(s.user == nil)  // the run's default user
        #expect(s.identityFiles == ["/fleet/id_ed25519"])
        #expect(s.knownHostsFiles == ["/fleet/known_hosts"])
        #expect(s.serverAliveInterval == .seconds(30))
        #expect(s.jumps.isEmpty)
    }

    /// How Ansible runs ssh: `-o Port= -o IdentityFile= -o User=` (first value wins) and the
    /// host is ansible_host, so ssh_config is matched against ansible_host.
    @Test(
        "inventory variables over ssh_config, as Ansible's ssh command line gives them",
        arguments: [
            // ansible_host names the alias: its block applies
            (["ansible_host": "web-alias"], "127.0.0.1:2201", nil as String?, ["/fleet/id_ed25519"]),
            // ansible_port and ansible_user win; the inventory key comes first
            (
                [
                    "ansible_host": "web-alias", "ansible_port": "2999", "ansible_user": "inv",
                    "ansible_ssh_private_key_file": "/keys/inv",
                ], "127.0.0.1:2999", "inv", ["/keys/inv", "/fleet/id_ed25519"]
            ),
            // ansible_host an address: the name's block does not apply (ssh never sees the name)
            (["ansible_host": "10.0.0.9"], "10.0.0.9:22", nil, []),
            // the ansible_ssh_ spellings
            (
                ["ansible_ssh_host": "web-alias", "ansible_ssh_user": "u2", "ansible_ssh_port": "2002"], "127.0.0.1:2002", "u2",
                ["/fleet/id_ed25519"]
            ),
            // common args: -o, -l, -p, -i as ssh reads them (after the connection variables)
            (
                ["ansible_host": "web-alias", "ansible_ssh_common_args": "-l common -p 2003 -o IdentityFile=/keys/c"],
                "127.0.0.1:2003", "common", ["/keys/c", "/fleet/id_ed25519"]
            ),
            (
                ["ansible_host": "web-alias", "ansible_port": "2004", "ansible_ssh_common_args": "-p 2005"],
                "127.0.0.1:2004", nil, ["/fleet/id_ed25519"]
            ),  // Ansible's -o Port comes first
        ])
    func inventoryWins(vars: [String: String], endpoint: String, user: String?, keys: [String]) throws {
        let s = try resolve(Self.bastion, "web1", vars.mapValues { .string($0) }, files: Self.keys)
        #expect(s.endpoint == endpoint)
        #expect(s.user == user)
        #expect(s.identityFiles == keys)
    }

    @Test("-u and --private-key stand in for inventory variables; ssh_config loses to them")
    func userFlags() throws {
        let flags = SSHRunFlags(user: "flaguser", identityFile: "/keys/flag")
        let s = try resolve(Self.bastion, "a.internal", files: Self.keys, flags: flags)
        #expect(s.user == "flaguser")
        #expect(s.identityFiles == ["/keys/flag", "/home/op/.ssh/deploy_key"])
        let v = try resolve(Self.bastion, "a.internal", ["ansible_user": .string("inv")], files: Self.keys, flags: flags)
        #expect(v.user == "inv")
        // Hops get neither (ssh runs them without the target's -o options).
        #expect(s.jumps.map(\.user) == ["ops"])
        #expect(s.jumps.map(\.identityFiles) == [["/home/op/.ssh/ops_key"]])
    }

    @Test("--known-hosts, --host-key-policy and --connect-timeout beat ssh_config and a host's own -o, for hops too")
    func runFlags() throws {
        let config = """
            Host gw
                ProxyJump none
            Host *
                UserKnownHostsFile ~/.ssh/other_known_hosts
                StrictHostKeyChecking accept-new
                ConnectTimeout 4
                ProxyJump gw
            """
        let flags = SSHRunFlags(knownHostsFiles: ["/run/kh"], hostKeyPolicy: .strict, connectTimeout: .seconds(9))
        let s = try resolve(config, "web", flags: flags)
        for c in [s] + s.jumps {
            #expect(c.knownHostsFiles == ["/run/kh"])
            #expect(c.hostKeyPolicy == .strict)
            #expect(c.connectTimeout == .seconds(9))
        }
        let own = try resolve(
            config, "web",
            ["ansible_ssh_common_args": .string("-o UserKnownHostsFile=/own/kh -o StrictHostKeyChecking=no -o ConnectTimeout=2")],
            flags: flags)
        #expect(own.knownHostsFiles == ["/run/kh"])
        #expect(own.hostKeyPolicy == .strict)
        #expect(own.connectTimeout == .seconds(9))
        let unflagged = try resolve(
            config, "web",
            ["ansible_ssh_common_args": .string("-o UserKnownHostsFile=/own/kh -o StrictHostKeyChecking=no -o ConnectTimeout=2")])
        #expect(unflagged.knownHostsFiles == ["/own/kh"])
        #expect(unflagged.hostKeyPolicy == .insecureAcceptAny)
        #expect(unflagged.connectTimeout == .seconds(2))
        #expect(unflagged.jumps.map(\.knownHostsFiles) == [["/home/op/.ssh/other_known_hosts"]])  // not the target's -o
        let none = try resolve(config, "web")
        #expect(none.knownHostsFiles == ["/home/op/.ssh/other_known_hosts"])
        #expect(none.hostKeyPolicy == .acceptNew)
        #expect(none.connectTimeout == .seconds(4))
    }

    @Test(
        "StrictHostKeyChecking: ask cannot prompt, so it is strict; no is accept-any",
        arguments: [
            ("yes", HostKeyPolicy.strict), ("ask", .strict), ("accept-new", .acceptNew), ("no", .insecureAcceptAny),
            ("off", .insecureAcceptAny), ("false", .insecureAcceptAny), ("true", .strict),
        ])
    func strict(value: String, policy: HostKeyPolicy) throws {
        #expect(try resolve("StrictHostKeyChecking \(value)\n", "h").hostKeyPolicy == policy)
    }

    @Test("ansible_host_key_checking false is StrictHostKeyChecking=no, as in Ansible")
    func ansibleHostKeyChecking() throws {
        #expect(try resolve("", "h", ["ansible_host_key_checking": .bool(false)]).hostKeyPolicy == .insecureAcceptAny)
        #expect(try resolve("", "h", ["ansible_host_key_checking": .bool(true)]).hostKeyPolicy == nil)
    }

    @Test("nothing set: the run's defaults (nil), the address in lower case")
    func defaults() throws {
        let s = try resolve("", "Web1.Example.COM")
        #expect(s == ConnectionSettings(hostName: "Web1.Example.COM", address: "web1.example.com"))
    }

    @Test("a bastion: the hop is resolved through the same file, with its own user, port and key")
    func bastionHop() throws {
        let s = try resolve(Self.bastion, "db.internal", files: Self.keys)
        #expect(s.route == "ops@198.51.100.7:2222 -> db.internal:22")
        #expect(s.user == "deploy")
        let hop = try #require(s.jumps.first)
        #expect(hop.hostName == "bastion")
        #expect(hop.identityFiles == ["/home/op/.ssh/ops_key"])
        #expect(hop.serverAliveInterval == .seconds(30))
        #expect(hop.jumps.isEmpty)
    }

    @Test("chains: the first hop's own ProxyJump is followed, later hops' are replaced; the list is flat")
    func chains() throws {
        let config = """
            Host target
                ProxyJump first,u2@second:2202
            Host first
                ProxyJump outer
            Host second
                ProxyJump ignored
                HostName 10.0.0.2
            """
        let s = try resolve(config, "target")
        #expect(s.jumps.map(\.hostName) == ["outer", "first", "second"])
        #expect(s.route == "outer:22 -> first:22 -> u2@10.0.0.2:2202 -> target:22")
        #expect(s.jumps.allSatisfy { $0.jumps.isEmpty })
    }

    @Test("ProxyJump takes %h %p %r %n of the host it leads to")
    func jumpTokens() throws {
        let s = try resolve("Host db.*\n  ProxyJump %r@gw-%h,%n-%p\n  User ops\n", "db.dc1")
        // The second hop matches db.* too.
        #expect(s.jumps.map { "\($0.user ?? "-")@\($0.endpoint)" } == ["ops@gw-db.dc1:22", "ops@db.dc1-22:22"])
    }

    @Test(
        "the inventory's jump: and -J/-o ProxyJump in the ssh args, over ssh_config",
        arguments: [
            (["jump": "a,b"], ["a", "b"]),
            (["ansible_ssh_common_args": "-J c"], ["c"]),
            (["ansible_ssh_extra_args": "-o ProxyJump=d"], ["d"]),
            (["ansible_ssh_common_args": "-o ProxyJump=none"], []),
            (["jump": "e", "ansible_ssh_common_args": "-J f"], ["e"]),  // fleetup's own variable wins
            ([:], ["cfg"]),
        ])
    func jumpVariables(vars: [String: String], hops: [String]) throws {
        let s = try resolve("Host h\n  ProxyJump cfg\n", "h", vars.mapValues { .string($0) })
        #expect(s.jumps.map(\.hostName) == hops)
    }

    @Test("a loop of jump hosts is an error, not a hang")
    func loop() {
        let message = resolveError("Host *\n  ProxyJump gw\n", "web")
        #expect(message?.contains("/home/op/.ssh/config:2: proxyjump: a loop of jump hosts (op@web:22 -> op@gw:22 -> op@gw:22)") == true)
    }

    @Test("a ProxyJump that matches its own hops ends after 10 hops, with an error")
    func runaway() {
        let message = resolveError("Host *.dc1\n  ProxyJump gw-%h\n", "db.dc1")
        #expect(
            message == "/home/op/.ssh/config:2: proxyjump: more than 10 jump hosts in a chain "
                + "(does a ProxyJump match its own hops?): op@db.dc1:22 -> op@gw-db.dc1:22 -> op@gw-gw-db.dc1:22 -> ...")
    }

    @Test("ProxyCommand is refused, naming the line, never bypassed")
    func proxyCommand() {
        let message = resolveError("Host *\n  ProxyCommand ssh -W %h:%p bastion\n", "web")
        #expect(
            message
                == "/home/op/.ssh/config:2: host web: ProxyCommand is not supported (ssh -W %h:%p bastion); use ProxyJump (ssh -W %h:%p bastion is ProxyJump bastion)"
        )
        #expect(
            resolveError("Host bastion\n  ProxyCommand nc %h %p\nHost web\n  ProxyJump bastion\n", "web")?.contains(
                "host bastion: ProxyCommand") == true)
        #expect(resolveError("ProxyCommand none\n", "web") == nil)
    }

    @Test("identity files: ssh_config ones that do not exist are skipped; explicit ones are kept (the executor says they are missing)")
    func identities() throws {
        let config = "IdentityFile ~/.ssh/missing\nIdentityFile ~/.ssh/present\nIdentityFile ~/.ssh/present\n"
        let s = try resolve(config, "h", ["ansible_ssh_private_key_file": .string("~/keys/inv")], files: ["/home/op/.ssh/present": "k"])
        #expect(s.identityFiles == ["/home/op/keys/inv", "/home/op/.ssh/present"])
    }

    @Test("paths: ~, tokens and ${VAR} in IdentityFile, UserKnownHostsFile, IdentityAgent")
    func paths() throws {
        let config = """
            Host t
                HostName %h.example.com
                User deploy
                Port 2200
                IdentityFile ~/.ssh/%h_%r_%p
                UserKnownHostsFile ~/kh/%n %d/%u/%i/%L/%l ${HOME}/x
                IdentityAgent ~/.ssh/agent-%C
                GlobalKnownHostsFile ~/global
                HostKeyAlias T-Alias
            """
        let s = try resolve(config, "t", files: ["/home/op/.ssh/t.example.com_deploy_2200": "k"])
        #expect(s.identityFiles == ["/home/op/.ssh/t.example.com_deploy_2200"])
        #expect(s.knownHostsFiles == ["/home/op/kh/t", "/home/op/op/1000/ctl/ctl.example.com", "/home/op/x"])
        let hash = Digest.sha1(Array("ctl.example.comt.example.com2200deploy".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(s.identityAgent == "/home/op/.ssh/agent-\(hash)")
        #expect(s.globalKnownHostsFiles == ["/home/op/global"])
        #expect(s.hostKeyAlias == "t-alias")
    }

    @Test(
        "IdentityAgent: none, SSH_AUTH_SOCK, $VAR",
        arguments: [
            ("none", "none"), ("SSH_AUTH_SOCK", "/tmp/agent.sock"), ("$SSH_AUTH_SOCK", "/tmp/agent.sock"), ("$UNSET_AGENT", "none"),
        ])
    func agents(value: String, socket: String) throws {
        #expect(try resolve("IdentityAgent \(value)\n", "h").identityAgent == socket)
    }

    @Test("UserKnownHostsFile none reads no user file; ConnectTimeout 0 is the run's timeout; ServerAliveInterval 0 is off")
    func zeroes() throws {
        let s = try resolve("UserKnownHostsFile none\nConnectTimeout 0\nServerAliveInterval 0\nServerAliveCountMax 0\n", "h")
        #expect(s.knownHostsFiles == [])
        #expect(s.connectTimeout == nil)
        #expect(s.serverAliveInterval == .zero)
        #expect(s.serverAliveCountMax == 0)
    }

    @Test("Match: host after HostName, originalhost, user so far, final pass; exec never matches")
    func match() throws {
        let config = """
            Host short
                HostName Long.Example.com
            Match host long.example.com
                User by-host
            Match originalhost short
                Port 2001
            Match user by-host
                IdentitiesOnly yes
            Match exec "true"
                Port 9
            Match final host long.example.com
                ServerAliveCountMax 7
            Host long.example.com
                ConnectTimeout 3
            Match final
            Host long.example.com
                HostKeyAlias final-pass
            """
        let s = try resolve(config, "short")
        #expect(s.address == "long.example.com")
        #expect(s.user == "by-host")
        #expect(s.port == 2001)
        #expect(s.identitiesOnly)
        #expect(s.serverAliveCountMax == 7)
        // The second pass (asked by Match final) matches Host lines against the final name.
        #expect(s.connectTimeout == .seconds(3))
        #expect(s.hostKeyAlias == "final-pass")
    }

    @Test("Include: relative to ~/.ssh for user files and /etc/ssh for the system one; globs sorted")
    func includes() throws {
        let env = sshEnvironment([
            "/home/op/.ssh/config": "Include conf.d/*.conf\nHost *\n  User last\n",
            "/home/op/.ssh/conf.d/20-b.conf": "Port 2020\nUser b\n",
            "/home/op/.ssh/conf.d/10-a.conf": "Host h\n  User a\n",
            "/etc/ssh/ssh_config": "Include ssh_config.d/*.conf\n",
            "/etc/ssh/ssh_config.d/x.conf": "Port 1\nIdentitiesOnly yes\n",
        ])
        let s = try SSHConfigResolver(environment: env).resolve(Host(name: "h"))
        #expect(s.user == "a")  // 10-a before 20-b; the Host line inside stays inside
        #expect(s.port == 2020)
        #expect(s.identitiesOnly)  // the system file after the user's
        let other = try SSHConfigResolver(environment: env).resolve(Host(name: "other"))
        #expect(other.user == "b")  // 20-b's lines outside a Host block apply to all
    }

    @Test("an included file (or ~/.ssh/config) another user can write is refused, as ssh refuses it")
    func permissions() {
        let env = sshEnvironment(["/home/op/.ssh/config": "Port 2\n"], owner: 1001)
        #expect { _ = try SSHConfigResolver(environment: env) } throws: {
            "\($0)".hasPrefix("/home/op/.ssh/config: bad owner or permissions")
        }
        // A file named with --ssh-config is not checked (ssh -F does not check either).
        #expect(throws: Never.self) { _ = try SSHConfigResolver(files: .file("/home/op/.ssh/config"), environment: env) }
    }

    @Test("--ssh-config names one file, which must exist; none reads nothing; -F in the ssh args wins for that host")
    func files() throws {
        let env = sshEnvironment(["/home/op/.ssh/config": "Port 1\n", "/cfg/a": "Port 2\n", "/cfg/b": "Port 3\n"])
        #expect(try SSHConfigResolver(files: .file("/cfg/a"), environment: env).resolve(Host(name: "h")).port == 2)
        #expect(try SSHConfigResolver(files: .none, environment: env).resolve(Host(name: "h")).port == 22)
        #expect(try SSHConfigResolver(files: .file("none"), environment: env).resolve(Host(name: "h")).port == 22)
        #expect(try SSHConfigResolver(environment: env).resolve(Host(name: "h")).port == 1)
        let f = Host(name: "h", vars: ["ansible_ssh_common_args": .string("-F /cfg/b")])
        #expect(try SSHConfigResolver(files: .file("/cfg/a"), environment: env).resolve(f).port == 3)
        #expect { _ = try SSHConfigResolver(files: .file("/cfg/missing"), environment: env) } throws: {
            "\($0)" == "/cfg/missing: no such file"
        }
        let missing = Host(name: "h", vars: ["ansible_ssh_common_args": .string("-F /cfg/nope")])
        #expect { _ = try SSHConfigResolver(environment: env).resolve(missing) } throws: { "\($0)" == "/cfg/nope: no such file" }
    }

    @Test(
        "malformed lines are errors naming file and line, in blocks that do not apply too",
        arguments: [
            ("Host x\n  Port abc\n", "/home/op/.ssh/config:2: port: expected a port (1-65535) or a service name, got \"abc\""),
            ("Port 22 23\n", "/home/op/.ssh/config:1: port: expected one value, got 2 (quote a value with spaces)"),
            ("\n\nUser \"x\n", "/home/op/.ssh/config:3: invalid quotes"),
            ("Host\n", "/home/op/.ssh/config:1: no argument after keyword \"host\""),
            ("IdentitiesOnly maybe\n", "/home/op/.ssh/config:1: identitiesonly: expected yes or no, got \"maybe\""),
            (
                "StrictHostKeyChecking sometimes\n",
                "/home/op/.ssh/config:1: stricthostkeychecking: expected yes, accept-new, no, off or ask, got \"sometimes\""
            ),
            ("ProxyJump a:b\n", "/home/op/.ssh/config:1: invalid ProxyJump \"a:b\": bad port \"b\""),
            (
                "Match bogus x\n",
                "/home/op/.ssh/config:1: match: unsupported criterion \"bogus\" (expected all, canonical, final, exec, host, originalhost, user or localuser)"
            ),
            ("Match host\n", "/home/op/.ssh/config:1: match: missing argument after \"host\""),
            (
                "Match all host h\n",
                "/home/op/.ssh/config:1: match: 'all' cannot be combined with other criteria (except one of canonical, final before it)"
            ),
            ("ConnectTimeout soon\n", "/home/op/.ssh/config:1: connecttimeout: expected a time such as 30, 90s, 1m30s or 2h, got \"soon\""),
            ("Host h\n  HostName %n.x\n", "/home/op/.ssh/config:2: hostname: unknown token %n in \"%n.x\" (here: %% %h)"),
            (
                "IdentityFile ~/%z\n",
                "/home/op/.ssh/config:1: identityfile ~/%z: unknown token %z in \"/home/op/%z\" (here: %% %C %L %d %h %i %k %l %n %p %r %u)"
            ),
            (
                "UserKnownHostsFile ${NOPE}\n",
                "/home/op/.ssh/config:1: userknownhostsfile ${NOPE}: environment variable NOPE is not set (in \"${NOPE}\")"
            ),
            ("IdentityAgent ${NOPE}\n", "/home/op/.ssh/config:1: identityagent: environment variable NOPE is not set (in \"${NOPE}\")"),
            ("Include /etc/loop\n", "/etc/loop:1: include: more than 16 levels of Include (an Include loop?)"),
        ])
    func malformed(text: String, message: String) {
        #expect(resolveError(text, files: ["/etc/loop": "Include /etc/loop\n"]) == message)
    }

    @Test(
        "bad ssh arguments in inventory variables name the host and the variable",
        arguments: [
            (["ansible_port": "ssh-port"], "host h: ansible_port: expected a port (1-65535), got \"ssh-port\""),
            (["ansible_ssh_common_args": "-o Bogus=1"], "host h: ansible_ssh_common_args: -o Bogus=1: unknown ssh option \"bogus\""),
            (
                ["ansible_ssh_common_args": "-J a -J b"],
                "host h: ansible_ssh_common_args: only one -J is allowed (separate hops with commas)"
            ),
            (
                ["ansible_ssh_common_args": "-o ProxyCommand=nc -J a"],
                "host h: ansible_ssh_common_args: -J cannot be combined with ProxyCommand"
            ),
            (["ansible_ssh_common_args": "-o 'Port=1"], "host h: ansible_ssh_common_args: no closing quotation in -o 'Port=1"),
            (
                ["ansible_ssh_common_args": "bastion"],
                "host h: ansible_ssh_common_args: unexpected \"bastion\" (only ssh options belong here)"
            ),
            (
                ["ansible_ssh_extra_args": "-o Host=x"],
                "host h: ansible_ssh_extra_args: -o Host=x: host cannot be given on the command line"
            ),
            (["ansible_ssh_common_args": "-p"], "host h: ansible_ssh_common_args: -p needs a value"),
            (["jump": "a:b"], "host h: jump: invalid jump host \"a:b\": bad port \"b\""),
            // A NUL would cut the address where it is resolved: 127.0.0.1 would be reached.
            (
                ["ansible_host": "127.0.0.1\u{0}evil"],
                "host h: ansible_host: \"127.0.0.1\\u0000evil\" has a control character, U+0000 (expected a host name or an address)"
            ),
            (
                ["ansible_ssh_host": "db\n2"],
                "host h: ansible_ssh_host: \"db\\u000A2\" has a control character, U+000A (expected a host name or an address)"
            ),
        ])
    func badArguments(vars: [String: String], message: String) {
        #expect(resolveError("", "h", vars.mapValues { .string($0) }) == message)
    }

    @Test("ssh options fleetup has no use for are skipped with their values")
    func skippedOptions() throws {
        let s = try resolve(
            "", "h",
            ["ansible_ssh_common_args": .string("-C -q -4 -A -vvv -c aes128-ctr -m hmac-sha2-256 -oPort=2022 -E /tmp/log -L 8080:x:80")])
        #expect(s.port == 2022)
    }

    @Test("warnings: unknown keywords (unless IgnoreUnknown names them) and Match exec, each once")
    func warnings() throws {
        let text = """
            IgnoreUnknown UseKeychain
            UseKeychain yes
            HostNmae typo.example.com
            Match exec "test -f /tmp/x"
                Port 1
            ForwardAgent yes
            """
        let r = try SSHConfigResolver(environment: sshEnvironment(["/home/op/.ssh/config": text]))
        _ = try r.resolve(Host(name: "a"))
        _ = try r.resolve(Host(name: "b"))
        #expect(
            r.warnings.map(\.description) == [
                "/home/op/.ssh/config:3: unknown keyword \"hostnmae\" ignored (ssh itself refuses it unless IgnoreUnknown names it)",
                "/home/op/.ssh/config:4: match exec: not evaluated by fleetup; this Match block never applies",
            ])
        let h = Host(name: "h", vars: ["ansible_ssh_common_args": .string("-i /keys/missing")])
        _ = try r.resolve(h)
        #expect(r.warnings.last?.description == "host h: ansible_ssh_common_args: -i /keys/missing: no such file; skipped, as ssh skips it")
    }
}
