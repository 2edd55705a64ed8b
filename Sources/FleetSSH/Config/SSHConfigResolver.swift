import FleetCore
import Foundation
import Synchronization

/// How a host's connection is found, OpenSSH's way: its inventory variables as Ansible
/// passes them to ssh (they win), fleetup's flags, then ssh_config (`~/.ssh/config` and
/// `/etc/ssh/ssh_config`, or one file) matched against `ansible_host` (else the inventory
/// name). Jump hops are resolved through the same files, as the `ssh -W` OpenSSH runs for
/// each hop would resolve them. Pure apart from reading the files (once each) and asking
/// whether identity files exist. docs/ssh.md has the precedence table.
public final class SSHConfigResolver: Sendable {
    /// Which ssh_config files to read.
    public enum Files: Sendable, Hashable {
        /// `~/.ssh/config` (if there is one), then `/etc/ssh/ssh_config`, as ssh does.
        case standard
        /// Only this file, which must exist (`ssh -F FILE`, `--ssh-config FILE`).
        case file(String)
        /// None (`-F none`).
        case none
    }

    public let flags: SSHRunFlags
    public let environment: SSHConfigEnvironment
    private let standard: [SSHConfigFile]
    private let state: Mutex<State>

    private struct State {
        var warnings: [SSHConfigError]
        /// Files named by a host's `-F`, read once.
        var named: [String: [SSHConfigFile]] = [:]
    }

    /// Reads the files now: a malformed line is an error here, before any connection.
    public init(
        files: Files = .standard, flags: SSHRunFlags = SSHRunFlags(),
        environment: SSHConfigEnvironment = .current
    ) throws(SSHConfigError) {
        self.flags = flags
        self.environment = environment
        var loader = SSHConfigLoader(environment: environment)
        var loaded: [SSHConfigFile] = []
        switch files {
        case .standard:
            if let f = try loader.load(environment.userConfigFile, userFile: true, required: false, checkPermissions: true) {
                loaded.append(f)
            }
            if let f = try loader.load(environment.systemConfigFile, userFile: false, required: false, checkPermissions: false) {
                loaded.append(f)
            }
        case .file(let path):
            if path.lowercased() != "none" {
                let full = (try? SSHTokens.expandTilde(path, home: environment.home)) ?? path
                if let f = try loader.load(full, userFile: true, required: true, checkPermissions: false) { loaded.append(f) }
            }
        case .none:
            break
        }
        standard = loaded
        state = Mutex(State(warnings: loader.warnings))
    }

    /// Problems that did not stop the files from being read (unknown keywords, `Match exec`),
    /// each once.
    public var warnings: [SSHConfigError] { state.withLock { $0.warnings } }

    /// The host's connection settings, its jump hops resolved too (first to last, each with
    /// no jumps of its own).
    public func resolve(_ host: FleetCore.Host) throws(SSHConfigError) -> ConnectionSettings {
        let arguments = try SSHHostArguments(host, flags: flags, environment: environment)
        if !arguments.warnings.isEmpty {
            state.withLock { s in s.warnings += arguments.warnings.filter { !s.warnings.contains($0) } }
        }
        let evaluation = SSHConfigEvaluation(files: try files(for: arguments.configFile), environment: environment)
        let target = try evaluation.resolve(arguments.hostArgument, commandLine: arguments.options)
        try refuseProxyCommand(target, name: host.name)
        var settings = try connectionSettings(target, name: host.name)
        for h in try hops(before: target, evaluation: evaluation, path: [identity(target)]) {
            try refuseProxyCommand(h.result, name: h.hop.host)
            settings.jumps.append(try connectionSettings(h.result, name: h.hop.host))
        }
        return settings
    }

    /// What `ssh -G` would show for the host and each of its hops (before fleetup's flags
    /// and expansions): what the conformance tests compare.
    func options(for host: FleetCore.Host) throws(SSHConfigError) -> (SSHConfigEvaluation.Result, [ResolvedHop]) {
        let arguments = try SSHHostArguments(host, flags: flags, environment: environment)
        let evaluation = SSHConfigEvaluation(files: try files(for: arguments.configFile), environment: environment)
        let target = try evaluation.resolve(arguments.hostArgument, commandLine: arguments.options)
        return (target, try hops(before: target, evaluation: evaluation, path: [identity(target)]))
    }

    private func files(for configFile: String?) throws(SSHConfigError) -> [SSHConfigFile] {
        guard let path = configFile else { return standard }
        if path.lowercased() == "none" { return [] }
        let full = (try? SSHTokens.expandTilde(path, home: environment.home)) ?? path
        if let cached = state.withLock({ $0.named[full] }) { return cached }
        var loader = SSHConfigLoader(environment: environment)
        let files = try loader.load(full, userFile: true, required: true, checkPermissions: false).map { [$0] } ?? []
        state.withLock { s in
            if s.named[full] == nil { s.warnings += loader.warnings }
            s.named[full] = files
        }
        return files
    }

    // MARK: - jump hosts

    /// One hop of a host's chain, resolved.
    struct ResolvedHop: Sendable, Hashable {
        /// As the ProxyJump that leads to it names it (tokens expanded).
        var hop: SSHJumpHop
        /// The hops OpenSSH puts in the `-J` of the `ssh` it runs for this hop (the ones before
        /// it in the same ProxyJump); empty for the first, whose own ProxyJump then applies.
        var before: [SSHJumpHop]
        var result: SSHConfigEvaluation.Result
    }

    /// The hops in front of `result`, first to last. OpenSSH reaches the last hop with
    /// `ssh -J <the hops before it> -l USER -p PORT HOP` and so on down to the first, which it
    /// reaches with a plain `ssh -l USER -p PORT HOP`: every hop is resolved through the same
    /// files; a later hop's own ProxyJump is replaced by the hops before it, but the first
    /// hop's own ProxyJump applies (and is followed the same way).
    func hops(
        before result: SSHConfigEvaluation.Result, evaluation: SSHConfigEvaluation,
        path: [String]
    ) throws(SSHConfigError) -> [ResolvedHop] {
        guard let proxy = result.options.proxy, case .jump(.hops(let written, let text)) = proxy.value else { return [] }
        // ProxyJump takes %h %n %p %r of the host it leads to (ssh expands them in the
        // ProxyCommand it builds).
        let table: [Character: String] = [
            "h": result.hostName, "n": result.hostArgument,
            "p": String(port(result)), "r": user(result),
        ]
        var chain: [SSHJumpHop] = []
        for hop in written {
            do throws(SSHTokens.Problem) {
                var user: String? = nil
                if let u = hop.user { user = try SSHTokens.expand(u, table) }
                chain.append(SSHJumpHop(user: user, host: try SSHTokens.expand(hop.host, table), port: hop.port))
            } catch {
                throw proxy.origin.error("proxyjump \(text): \(error.message)")
            }
        }
        var out: [ResolvedHop] = []
        for (i, hop) in chain.enumerated() {
            var commandLine = SSHOptions()
            let before = Array(chain[..<i])
            if let u = hop.user { commandLine.apply(.user(u), origin: proxy.origin) }
            if let p = hop.port { commandLine.apply(.port(p), origin: proxy.origin) }
            if !before.isEmpty {
                let text = before.map(\.description).joined(separator: ",")
                commandLine.apply(.proxyJump(.hops(before, text: text)), origin: proxy.origin)
            }
            let resolved = try evaluation.resolve(hop.host, commandLine: commandLine)
            if i == 0 {
                let id = identity(resolved)
                if path.contains(id) {
                    throw proxy.origin.error("proxyjump: a loop of jump hosts (\((path + [id]).joined(separator: " -> ")))")
                }
                if path.count >= 10 {
                    throw proxy.origin.error(
                        "proxyjump: more than 10 jump hosts in a chain (does a ProxyJump match its own hops?): "
                            + path.prefix(3).joined(separator: " -> ") + " -> ...")
                }
                out += try hops(before: resolved, evaluation: evaluation, path: path + [id])
            }
            out.append(ResolvedHop(hop: hop, before: before, result: resolved))
        }
        return out
    }

    /// `user@host:port`, how loops are recognised.
    private func identity(_ r: SSHConfigEvaluation.Result) -> String { "\(user(r))@\(r.hostName):\(port(r))" }
    private func port(_ r: SSHConfigEvaluation.Result) -> Int { r.options.port?.value ?? 22 }
    private func user(_ r: SSHConfigEvaluation.Result) -> String { r.options.user?.value ?? environment.localUser }

    // MARK: - settings

    /// fleetup runs no local programs to connect: a host (or hop) that needs one is refused
    /// rather than reached some other way, which could go around a bastion.
    private func refuseProxyCommand(_ r: SSHConfigEvaluation.Result, name: String) throws(SSHConfigError) {
        if let proxy = r.options.proxy, case .command(let command) = proxy.value, command.lowercased() != "none" {
            throw proxy.origin.error(
                "host \(name): ProxyCommand is not supported (\(command)); "
                    + "use ProxyJump (ssh -W %h:%p bastion is ProxyJump bastion)")
        }
    }

    /// The resolved options as the executor takes them, every path expanded (`~`, `%`
    /// tokens, `${VAR}`), fleetup's run-wide flags over whatever else set the same thing.
    func connectionSettings(_ r: SSHConfigEvaluation.Result, name: String) throws(SSHConfigError) -> ConnectionSettings {
        let o = r.options
        let env = environment
        let alias = o.hostKeyAlias?.value.lowercased()
        let table: [Character: String] = [
            "C": Digest.sha1(Array((env.localHostname + r.hostName + String(port(r)) + user(r)).utf8))
                .map { String(format: "%02x", $0) }.joined(),
            "L": String(env.localHostname.prefix { $0 != "." }), "i": String(env.userID),
            "k": alias ?? r.hostArgument, "l": env.localHostname, "n": r.hostArgument,
            "d": env.home, "h": r.hostName, "r": user(r), "u": env.localUser, "p": String(port(r)),
        ]
        func path(_ text: String, _ origin: SSHConfigOrigin, _ keyword: String) throws(SSHConfigError) -> String {
            do { return try SSHTokens.expand(try SSHTokens.expandTilde(text, home: env.home), table, environment: env.variables) } catch {
                throw origin.error("\(keyword) \(text): \(error.message)")
            }
        }

        var s = ConnectionSettings(hostName: name, address: r.hostName, port: port(r), user: o.user?.value)
        for file in o.identityFiles {
            let p = try path(file.path, file.origin, "identityfile")
            // ssh skips an IdentityFile it cannot find; one the inventory names must exist.
            if file.explicit || env.files.exists(p) { s.identityFiles.append(p) }
        }
        s.identitiesOnly = o.identitiesOnly?.value ?? false
        if let agent = o.identityAgent {
            switch agent.value {
            case "none": s.identityAgent = "none"
            case "SSH_AUTH_SOCK": s.identityAgent = env.variables["SSH_AUTH_SOCK"] ?? "none"
            case let v where v.hasPrefix("$") && !v.hasPrefix("${"):
                s.identityAgent = env.variables[String(v.dropFirst())] ?? "none"
            case let v: s.identityAgent = try path(v, agent.origin, "identityagent")
            }
        }
        // fleetup's run-wide flags, typed for this run, win over everything for what they name.
        if let files = flags.knownHostsFiles {
            s.knownHostsFiles = files
        } else if let files = o.userKnownHostsFiles {
            var expanded: [String] = []
            for f in files.value where files.value != ["none"] { expanded.append(try path(f, files.origin, "userknownhostsfile")) }
            s.knownHostsFiles = expanded
        }
        if let files = o.globalKnownHostsFiles {
            var expanded: [String] = []
            for f in files.value where files.value != ["none"] {
                do { expanded.append(try SSHTokens.expandTilde(f, home: env.home)) } catch {
                    throw files.origin.error("globalknownhostsfile \(f): \(error.message)")
                }
            }
            s.globalKnownHostsFiles = expanded
        }
        s.hostKeyPolicy = flags.hostKeyPolicy ?? o.strictHostKeyChecking?.value.policy
        s.hostKeyAlias = alias
        // ConnectTimeout 0 is the system's TCP timeout for ssh: the run's timeout for fleetup.
        s.connectTimeout = flags.connectTimeout ?? o.connectTimeout.flatMap { $0.value > 0 ? .seconds($0.value) : nil }
        s.serverAliveInterval = o.serverAliveInterval.map { .seconds($0.value) }
        s.serverAliveCountMax = o.serverAliveCountMax?.value
        return s
    }
}
