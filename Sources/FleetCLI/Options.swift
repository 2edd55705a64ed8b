import ArgumentParser
import FleetConfig
import FleetCore
import FleetSSH
import Foundation

/// `-i` and `--limit`: which inventory, and which of its hosts.
struct InventoryOptions: ParsableArguments {
    @Option(
        name: [.customShort("i"), .customLong("inventory")],
        help: ArgumentHelp("Inventory file or comma list of hosts (repeatable; merged in order).", valueName: "INV"))
    var inventories: [String] = []

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Host pattern: only these hosts (a:b union, a:&b and, a:!b not, globs).",
            valueName: "PAT"))
    var limit: String?

    @OptionGroup var vault: VaultOptions

    mutating func validate() throws {
        // No -i: ansible.cfg's inventory (or $ANSIBLE_INVENTORY), as Ansible takes it.
        _ = AnsibleConfigDefaults.warned
        if inventories.isEmpty, let configured = try AnsibleConfigDefaults.config()[.inventory] {
            inventories = configured.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if inventories.isEmpty {
            throw ValidationError("give an inventory with -i INV (a file, or 'host1,host2,'), or `inventory = …` in ansible.cfg")
        }
    }

    /// The inventory's hosts, narrowed by `--limit`.
    func selectedHosts() throws -> (Inventory, [FleetCore.Host]) {
        let inventory = try loadPrintingWarnings()
        guard !inventory.hosts.isEmpty else {
            throw ConfigError(file: inventories.joined(separator: ", "), "the inventory has no hosts")
        }
        let hosts = try limit.map { try HostPattern.limit($0, in: inventory) } ?? inventory.hosts
        return (inventory, hosts)
    }

    /// The selected hosts, to be reached over SSH (jump hosts and all: ssh_config and the
    /// inventory's ProxyJump are resolved by `ConnectionOptions.sshConfiguration(for:)`).
    func reachableHosts() throws -> [FleetCore.Host] {
        try selectedHosts().1
    }
}

/// How to connect: shared by every command that talks to hosts.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("forks")], help: "Hosts in flight at once (default: ansible.cfg's forks, else 20).")
    var forksGiven: Int?

    /// `--forks`, else ansible.cfg's (filled by `validate`), else 20.
    var forks: Int { forksGiven ?? 20 }

    @Option(
        help: ArgumentHelp(
            "Simultaneous SSH handshakes over the whole fleet (the CPU-heavy part, and what sshd's MaxStartups limits).",
            valueName: "N"))
    var handshakes: Int = 64

    @Option(
        name: .customLong("connect-timeout"),
        help: ArgumentHelp(
            "Seconds for TCP connect + handshake + auth, per attempt (default: ssh_config's ConnectTimeout, else 10).",
            valueName: "S"))
    var connectTimeout: Double?

    @Option(
        name: .customLong("known-hosts"),
        help: ArgumentHelp(
            "known_hosts file (repeatable; the first one records accept-new keys). Default: ssh_config's UserKnownHostsFile, else ~/.ssh/known_hosts.",
            valueName: "FILE"))
    var knownHosts: [String] = []

    @Option(
        name: .customLong("host-key-policy"),
        help:
            "Unknown host keys: strict refuses them, accept-new records them. Changed keys are always refused. Default: ssh_config's StrictHostKeyChecking, else strict."
    )
    var hostKeyPolicy: HostKeyPolicy?

    @Option(
        name: [.customShort("u"), .customLong("user")], help: "Remote user for hosts whose inventory names none (before ssh_config's User)."
    )
    var user: String?

    @Option(
        name: .customLong("private-key"),
        help: ArgumentHelp("Key file for hosts whose inventory names none (tried before ssh_config's IdentityFile).", valueName: "FILE"))
    var privateKey: String?

    @Option(
        name: .customLong("ssh-config"),
        help: ArgumentHelp(
            "OpenSSH client config to read instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F; 'none' reads none).",
            valueName: "FILE"))
    var sshConfig: String?

    mutating func validate() throws {
        try applyAnsibleConfig()
        if forks < 1 { throw ValidationError("--forks must be at least 1 (got \(forks))") }
        if handshakes < 1 { throw ValidationError("--handshakes must be at least 1 (got \(handshakes))") }
        try validateSeconds(connectTimeout, "--connect-timeout")
    }

    /// Reads ssh_config now: a malformed file is bad input, before any connection.
    func sshResolver() throws -> SSHConfigResolver {
        let config = try? AnsibleConfigDefaults.config()
        let flags = SSHRunFlags(
            user: user, identityFile: privateKey, knownHostsFiles: knownHosts.isEmpty ? nil : knownHosts,
            hostKeyPolicy: hostKeyPolicy, connectTimeout: connectTimeout.map(duration(seconds:)),
            sshArgs: config?[.sshArgs]?.value, sshCommonArgs: config?[.sshCommonArgs]?.value)
        do {
            return try SSHConfigResolver(files: sshConfig.map { .file($0) } ?? .standard, flags: flags)
        } catch {
            throw error.configError(inventory: "inventory")
        }
    }

    /// The run's SSH settings with every host's connection resolved now (inventory vars,
    /// flags, ssh_config, jump hops): a problem in any of them is bad input, listed one per
    /// host, before any connection is made.
    func sshConfiguration(for hosts: [FleetCore.Host], inventory: String = "inventory") throws -> SSHConfiguration {
        let resolver = try sshResolver()
        var settings: [String: ConnectionSettings] = [:]
        var errors: [ConfigError] = []
        for host in hosts {
            do { settings[host.name] = try resolver.resolve(host) } catch { errors.append(error.configError(inventory: inventory)) }
        }
        if errors.count > 10 { errors = Array(errors.prefix(10)) + [ConfigError(file: inventory, "and \(errors.count - 10) more hosts")] }
        guard errors.isEmpty else { throw ConfigErrors(errors) }
        printWarnings(resolver.warnings)
        let resolved = settings
        var c = baseConfiguration()
        c.resolve = { host in resolved[host.name] ?? Self.resolveLate(host, resolver) }
        return c
    }

    private func baseConfiguration() -> SSHConfiguration {
        var c = SSHConfiguration()
        if !knownHosts.isEmpty { c.knownHostsFiles = knownHosts }
        c.hostKeyPolicy = hostKeyPolicy ?? .strict
        c.connectTimeout = duration(seconds: connectTimeout ?? 10)
        c.maxConcurrentHandshakes = handshakes
        // -u and --private-key reach the hosts through the resolver (before ssh_config, as in
        // Ansible); jump hops, which ssh reaches without them, keep the usual defaults.
        c.warn = { message in FileHandle.standardError.write(Data("fleetup: \(message)\n".utf8)) }
        return c
    }

    /// A host not resolved up front, resolved when first connected. On a problem it is
    /// unreachable with that problem as its reason, instead of being reached some other way
    /// than its ssh_config says.
    private static func resolveLate(_ host: FleetCore.Host, _ resolver: SSHConfigResolver) -> ConnectionSettings {
        do {
            return try resolver.resolve(host)
        } catch {
            // Never connected to: not directly (that could bypass the bastion or the settings
            // the operator wrote), not anywhere (no name lookup either).
            var refused = ConnectionSettings(hostName: host.name, address: host.name)
            refused.problem = "\(error.configError(inventory: "inventory"))"
            return refused
        }
    }

    /// ssh_config's warnings (unknown keywords, Match exec), once per run, on stderr.
    private func printWarnings(_ warnings: [SSHConfigError]) {
        for w in warnings { FileHandle.standardError.write(Data("fleetup: warning: \(w)\n".utf8)) }
    }
}

extension SSHConfigError {
    /// As FleetConfig reports bad input: `file:line: problem`, or for a host's variables
    /// `INVENTORY: host web1: ansible_ssh_common_args: problem`.
    func configError(inventory: String) -> ConfigError {
        switch source {
        case .file(let file, let line): return ConfigError(file: file, line: line, message)
        case .variable(let name, let host): return ConfigError(file: inventory, "host \(host): \(name): \(message)")
        }
    }
}

// `no` exists only as an ssh_config setting the operator wrote, never as a flag.
extension HostKeyPolicy: ExpressibleByArgument {
    public init?(argument: String) {
        guard argument != HostKeyPolicy.insecureAcceptAny.rawValue else { return nil }
        self.init(rawValue: argument)
    }

    public static var allValueStrings: [String] { [HostKeyPolicy.strict.rawValue, HostKeyPolicy.acceptNew.rawValue] }
}

/// Refuses a seconds flag (`--timeout 2.5`) that is not positive, not finite (`inf`, `nan`)
/// or longer than `DurationText.maximum` (`1e300`): converting those traps.
func validateSeconds(_ value: Double?, _ flag: String) throws {
    guard let value, DurationText.seconds(value) == nil else { return }
    let most = DurationText.maximum
    throw ValidationError("\(flag) must be a positive number of seconds, at most \(most.components.seconds) (\(DurationText.format(most)))")
}

/// Seconds given on the command line (`2`, `0.5`), checked by `validateSeconds`, as a Duration.
func duration(seconds: Double) -> Duration { DurationText.seconds(seconds) ?? DurationText.maximum }

/// ansible.cfg (and the `ANSIBLE_*` variables) read once per process: the settings that give
/// flags their defaults (docs/inventory.md, "ansible.cfg").
enum AnsibleConfigDefaults {
    private static let loaded = Result { () throws(ConfigError) in try AnsibleConfig.load() }

    static func config() throws -> AnsibleConfig {
        let config = try loaded.get()
        return config
    }

    /// Ansible's warnings about where it looked (once).
    static let warned: Void = {
        if let c = try? loaded.get() { for w in c.warnings { FileHandle.standardError.write(Data("fleetup: warning: \(w)\n".utf8)) } }
    }()
}

extension ConnectionOptions {
    /// Flags not given take ansible.cfg's values: remote_user (-u), private_key_file
    /// (--private-key), forks, timeout (--connect-timeout), host_key_checking = False
    /// (--host-key-policy accept-new: fleetup never connects to a host whose key changed).
    mutating func applyAnsibleConfig() throws {
        let config = try AnsibleConfigDefaults.config()
        _ = AnsibleConfigDefaults.warned
        if user == nil { user = config[.remoteUser]?.value }
        if privateKey == nil { privateKey = config[.privateKeyFile]?.value }
        if forksGiven == nil, let f = config[.forks] {
            guard let n = Int(f.value) else { throw ValidationError("\(f.source): forks: expected a whole number, got \"\(f.value)\"") }
            forksGiven = n
        }
        if connectTimeout == nil, let t = config[.timeout] {
            guard let seconds = Double(t.value), seconds > 0 else {
                throw ValidationError("\(t.source): timeout: expected seconds, got \"\(t.value)\"")
            }
            connectTimeout = seconds
        }
        if hostKeyPolicy == nil, config.bool(.hostKeyChecking) == false { hostKeyPolicy = .acceptNew }
    }

    /// Where each connection setting of this run comes from, for `ping -v`.
    func settingSources() -> [String] {
        guard let config = try? AnsibleConfigDefaults.config() else { return [] }
        var lines = [
            "ansible.cfg: " + (config.file ?? "none found (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg)")
        ]
        for key in AnsibleConfig.Key.allCases {
            if let s = config[key] { lines.append("  \(key.rawValue) = \(s.value)  (\(s.source))") }
        }
        return lines
    }
}
