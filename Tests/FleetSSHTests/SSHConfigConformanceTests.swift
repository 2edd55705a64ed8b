import FleetCore
import FleetLocal
import Foundation
import Testing

import struct FleetCore.Host

@testable import FleetSSH

/// fleetup's ssh_config resolution against the real one: for every `# check:` line of the
/// files in Fixtures/ssh_config (README.md there), `ssh -G` (OpenSSH resolves and prints the
/// configuration, connecting nowhere) and fleetup must agree on every field fleetup uses,
/// for the host and for each jump hop. The expected values are made live by the installed
/// ssh (OpenSSH 9.2 on Debian 12, the CI image), so nothing here can go stale.
@Suite("ssh_config against ssh -G", .enabled(if: SSHG.ssh != nil, "needs OpenSSH's ssh (openssh-client)"))
struct SSHConfigConformanceTests {
    @Test("the fixtures are there: ~20 configs, 80+ checks")
    func fixtures() {
        #expect(Set(SSHG.cases.map(\.file)).count >= 20)
        #expect(SSHG.cases.count >= 80)
    }

    @Test("same resolution as ssh -G", arguments: SSHG.cases)
    func sameAsOpenSSH(_ c: SSHG.Case) async throws {
        let resolver = try SSHConfigResolver(files: .file(c.path))
        let (target, hops) = try resolver.options(for: c.host)
        let expected = try await SSHG.run(["-F", c.path] + c.sshArguments + [target.hostArgument])
        SSHG.compare(SSHG.fields(target, resolver), expected, "\(c)")
        for hop in hops {
            var args = ["-F", c.path]
            if let u = hop.hop.user { args += ["-l", u] }
            if let p = hop.hop.port { args += ["-p", String(p)] }
            if !hop.before.isEmpty { args += ["-J", hop.before.map { $0.description }.joined(separator: ",")] }
            let hopExpected = try await SSHG.run(args + [hop.hop.host])
            SSHG.compare(SSHG.fields(hop.result, resolver), hopExpected, "\(c), jump hop \(hop.hop)")
        }
    }

    @Test(
        "jump chains as ssh builds them",
        arguments: [
            // The first hop's own ProxyJump is followed; the second hop's is replaced by the first.
            ("02-jump-chain.conf", "app.dc2", [:], ["outer", "jump1", "jump2"]),
            ("02-jump-chain.conf", "edge.dc3", [:], ["never-used", "jump2", "jump1"]),
            ("01-bastion.conf", "web1.internal", [:], ["bastion"]),
            ("17-inventory.conf", "web5", [:], ["should-be-overridden"]),
            ("17-inventory.conf", "web5", ["ansible_ssh_common_args": "-o ProxyJump=none"], []),
            ("17-inventory.conf", "web5", ["jump": "a,b"], ["a", "b"]),
            ("18-proxyjump-forms.conf", "pj3", [:], ["2001:db8::10", "2001:db8::11"]),
        ])
    func chains(file: String, host: String, vars: [String: String], hops: [String]) throws {
        let resolver = try SSHConfigResolver(files: .file(SSHG.directory + "/" + file))
        let (_, resolved) = try resolver.options(for: Host(name: host, vars: vars.mapValues { .string($0) }))
        #expect(resolved.map(\.hop.host) == hops)
    }

    /// Lines ssh refuses: fleetup refuses them too, naming the file and line.
    @Test(
        "what ssh refuses, fleetup refuses",
        arguments: [
            "Port 22 23\n", "Port 0\n", "Port 0x16\n", "Port abc\n", "HostName\n", "HostName \"\"\n",
            "HostName \"unbalanced\n", "Host\n", "Host \"\"\n", "IdentitiesOnly maybe\n", "StrictHostKeyChecking sometimes\n",
            "ConnectTimeout 5x\n", "ConnectTimeout -1\n", "ServerAliveCountMax x\n", "ServerAliveCountMax -1\n",
            "HostKeyAlias a b\n", "ProxyJump a:b\n", "ProxyJump a:0\n", "ProxyJump @a\n", "ProxyJump a,,b\n",
            "ProxyJump u@\n", "ProxyJump ::1\n", "Host other\nProxyJump a:x\n", "Host other\nPort abc\n",
            "Match\n", "Match host\n", "Match bogus x\n", "Match all host h\n", "Match all x\n",
            "Match host h canonical all\n", "Include\n", "IdentityAgent ${FLEETUP_UNSET_VARIABLE}/x\n",
            "IdentityAgent $HOME/x\n", "HostName %n\n", "HostName %\n", "UserKnownHostsFile %j\n",
            "UserKnownHostsFile ${FLEETUP_UNSET_VARIABLE}/kh\n", "Include @DIR@/loop.conf\n",
        ])
    func refused(_ text: String) async throws {
        let dir = SSHG.directory
        let path = dir + "/refused-\(UUID().uuidString.prefix(8)).conf"
        try text.replacingOccurrences(of: "@DIR@", with: dir).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ssh = try await SSHG.exit(["-F", path, "h"])
        #expect(ssh != 0, "ssh accepts \(text.debugDescription)")
        #expect(throws: SSHConfigError.self, "fleetup accepts \(text.debugDescription)") {
            _ = try SSHConfigResolver(files: .file(path)).resolve(Host(name: "h"))
        }
    }
}

/// Running `ssh -G` and reading fleetup's resolution the way it prints.
enum SSHG {
    static let ssh = LocalProcess.find("ssh")
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ssh_config")

    /// The fixtures copied once per test process to a temporary folder, `@DIR@` replaced
    /// (the folders of test processes that have ended are removed first).
    static let directory: String = {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [] where name.hasPrefix("fleetup-sshconfig-") {
            if let pid = Int32(name.dropFirst("fleetup-sshconfig-".count)), kill(pid, 0) != 0, errno == ESRCH {
                try? fm.removeItem(atPath: NSTemporaryDirectory() + name)
            }
        }
        let dir = NSTemporaryDirectory() + "fleetup-sshconfig-\(getpid())"
        try? fm.removeItem(atPath: dir)
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for rel in (fm.subpaths(atPath: source.path) ?? []).sorted() {
            var isDir: ObjCBool = false
            let from = source.path + "/" + rel
            _ = fm.fileExists(atPath: from, isDirectory: &isDir)
            if isDir.boolValue {
                try? fm.createDirectory(atPath: dir + "/" + rel, withIntermediateDirectories: true)
            } else if let text = try? String(contentsOfFile: from, encoding: .utf8) {
                try? text.replacingOccurrences(of: "@DIR@", with: dir).write(toFile: dir + "/" + rel, atomically: true, encoding: .utf8)
            }
        }
        // An Include that includes itself, for the refused table.
        try? "Include \(dir)/loop.conf\n".write(toFile: dir + "/loop.conf", atomically: true, encoding: .utf8)
        return dir
    }()

    struct Case: Sendable, CustomTestStringConvertible, CustomStringConvertible {
        var file: String
        var line: Int
        var destination: String
        var vars: [(name: String, value: String)]
        var path: String { SSHG.directory + "/" + file }
        var description: String { "\(file):\(line): \(destination)" + vars.map { " \($0.name)=\($0.value)" }.joined() }
        var testDescription: String { description }

        var host: Host { Host(name: destination, vars: Dictionary(vars.map { ($0.name, VarValue.string($0.value)) }) { a, _ in a }) }

        /// The ssh command line Ansible's ssh plugin writes for these variables.
        var sshArguments: [String] {
            let v = Dictionary(vars.map { ($0.name, $0.value) }) { a, _ in a }
            var args: [String] = []
            if let p = v["ansible_port"] { args += ["-o", "Port=\(p)"] }
            if let k = v["ansible_ssh_private_key_file"] { args += ["-o", "IdentityFile=\"\(k)\""] }
            if let u = v["ansible_user"] { args += ["-o", "User=\"\(u)\""] }
            for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
                if let a = v[name] { args += (try? Shlex.split(a, comments: false)) ?? [] }
            }
            return args
        }
    }

    /// Every `# check:` line of every fixture.
    static let cases: [Case] = {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: source.path)) ?? []).filter { $0.hasSuffix(".conf") }.sorted()
        return files.flatMap { file -> [Case] in
            let text = (try? String(contentsOf: source.appendingPathComponent(file), encoding: .utf8)) ?? ""
            return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { i, raw in
                let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                guard line.hasPrefix("# check:"), let words = try? Shlex.split(String(line.dropFirst(8)), comments: false),
                    let destination = words.first
                else { return nil }
                let vars = words.dropFirst().compactMap { w -> (String, String)? in
                    guard let eq = w.firstIndex(of: "=") else { return nil }
                    return (String(w[..<eq]), String(w[w.index(after: eq)...]))
                }
                return Case(file: file, line: i + 1, destination: destination, vars: vars.map { (name: $0.0, value: $0.1) })
            }
        }
    }()

    /// `ssh -G ARGS` (always -G: nothing connects), off the cooperative pool.
    static func run(_ arguments: [String]) async throws -> [String: [String]] {
        let exit = try await offPool { try LocalProcess(ssh!, ["-G"] + arguments).waitForExit() }
        guard exit.status == 0 else { throw LocalProcess.Failure(description: "ssh -G \(arguments): \(exit.stderr)") }
        var out: [String: [String]] = [:]
        for line in exit.stdout.split(separator: "\n") {
            guard let sp = line.firstIndex(of: " ") else { continue }
            out[String(line[..<sp]), default: []].append(String(line[line.index(after: sp)...]))
        }
        return out
    }

    static func exit(_ arguments: [String]) async throws -> Int32? {
        try await offPool { try LocalProcess(ssh!, ["-G"] + arguments).waitForExit() }.status
    }

    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in Thread { c.resume(with: Result { try body() }) }.start() }
    }

    /// The fields fleetup uses, as `ssh -G` prints them (its defaults where nothing is set).
    static func fields(_ r: SSHConfigEvaluation.Result, _ resolver: SSHConfigResolver) -> [String: [String]] {
        let env = resolver.environment
        let o = r.options
        let settings = try? resolver.connectionSettings(r, name: r.hostArgument)
        var f: [String: [String]] = [
            "hostname": [r.hostName],
            "port": [String(o.port?.value ?? 22)],
            "user": [o.user?.value ?? env.localUser],
            "identitiesonly": [o.identitiesOnly?.value == true ? "yes" : "no"],
            "connecttimeout": [o.connectTimeout.map { String($0.value) } ?? "none"],
            "serveraliveinterval": [String(o.serverAliveInterval?.value ?? 0)],
            "serveralivecountmax": [String(o.serverAliveCountMax?.value ?? 3)],
            "globalknownhostsfile": [
                (o.globalKnownHostsFiles?.value ?? ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]).joined(separator: " ")
            ],
        ]
        f["identityfile"] = o.identityFiles.isEmpty ? defaultIdentities : o.identityFiles.map(\.path)
        f["stricthostkeychecking"] = [
            o.strictHostKeyChecking.map { ["yes": "true", "no": "false"][$0.value.rawValue] ?? $0.value.rawValue } ?? "ask"
        ]
        if let files = o.userKnownHostsFiles {
            f["userknownhostsfile"] = [files.value == ["none"] ? "none" : (settings?.knownHostsFiles ?? ["?"]).joined(separator: " ")]
        } else {
            f["userknownhostsfile"] = ["\(env.home)/.ssh/known_hosts \(env.home)/.ssh/known_hosts2"]
        }
        if let agent = o.identityAgent {
            let raw = agent.value
            f["identityagent"] = [
                raw == "none" || raw == "SSH_AUTH_SOCK" || (raw.hasPrefix("$") && !raw.hasPrefix("${"))
                    ? raw : settings?.identityAgent ?? "?"
            ]
        }
        if let alias = o.hostKeyAlias { f["hostkeyalias"] = [alias.value.lowercased()] }
        switch o.proxy?.value {
        case .jump(.hops(let hops, let text))?:
            let prefix = text.lastIndex(of: ",").map { String(text[..<$0]) + "," } ?? ""
            f["proxyjump"] = [prefix + hops.last!.description]
        case .command(let c)? where c.lowercased() != "none":
            f["proxycommand"] = [c]
        default: break
        }
        return f
    }

    /// ssh's own default identities (it lists them when nothing names one).
    static let defaultIdentities = [
        "~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk", "~/.ssh/id_ed25519",
        "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa",
    ]

    static let compared = [
        "hostname", "port", "user", "identityfile", "identitiesonly", "identityagent", "proxyjump",
        "proxycommand", "userknownhostsfile", "globalknownhostsfile", "stricthostkeychecking",
        "connecttimeout", "serveraliveinterval", "serveralivecountmax", "hostkeyalias",
    ]

    static func compare(
        _ ours: [String: [String]], _ theirs: [String: [String]], _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for key in compared {
            let a = ours[key] ?? [], b = theirs[key] ?? []
            if key == "identityfile" && a == defaultIdentities {
                #expect(Set(a) == Set(b), "\(label): \(key)", sourceLocation: sourceLocation)
            } else {
                #expect(a == b, "\(label): \(key)", sourceLocation: sourceLocation)
            }
        }
    }
}
