import ArgumentParser
import FleetConfig
import FleetCore
import FleetSSH
import Foundation

/// `-i` and `--limit`: which inventory, and which of its hosts.
struct InventoryOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("inventory")],
            help: ArgumentHelp("Inventory file or comma list of hosts (repeatable; merged in order).", valueName: "INV"))
    var inventories: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("Host pattern: only these hosts (a:b union, a:&b and, a:!b not, globs).",
                                                      valueName: "PAT"))
    var limit: String?

    func validate() throws {
        if inventories.isEmpty { throw ValidationError("give an inventory with -i INV (a file, or 'host1,host2,')") }
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

    /// Hosts to be reached over SSH: refuses, before any connection, hosts that name a jump
    /// host, which the executor cannot use yet; connecting to them directly instead would
    /// bypass the bastion the operator put in front of them.
    func reachableHosts() throws -> [FleetCore.Host] {
        let (_, hosts) = try selectedHosts()
        let jumping = hosts.filter { !$0.connectionVars.jumps.isEmpty }
        guard jumping.isEmpty else {
            let file = inventories.joined(separator: ", ")
            var errors = jumping.prefix(10).map { h in
                ConfigError(file: file, "host \(h.name): jump host \(h.connectionVars.jumps.map(\.description).joined(separator: ",")) "
                            + "(ProxyJump) is not supported yet; leave it out with --limit, or reach the host directly")
            }
            if jumping.count > 10 { errors.append(ConfigError(file: file, "and \(jumping.count - 10) more hosts behind jump hosts")) }
            throw ConfigErrors(errors)
        }
        return hosts
    }
}

/// How to connect: shared by every command that talks to hosts.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Hosts in flight at once.")
    var forks: Int = 20

    @Option(help: ArgumentHelp("Simultaneous SSH handshakes over the whole fleet (the CPU-heavy part, and what sshd's MaxStartups limits).",
                               valueName: "N"))
    var handshakes: Int = 64

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("Seconds for TCP connect + handshake + auth, per attempt.", valueName: "S"))
    var connectTimeout: Double = 10

    @Option(name: .customLong("known-hosts"), help: ArgumentHelp("known_hosts file (repeatable; the first one records accept-new keys). Default: ~/.ssh/known_hosts.",
                                                                 valueName: "FILE"))
    var knownHosts: [String] = []

    @Option(name: .customLong("host-key-policy"), help: "Unknown host keys: strict refuses them, accept-new records them. Changed keys are always refused.")
    var hostKeyPolicy: HostKeyPolicy = .strict

    @Option(name: [.customShort("u"), .customLong("user")], help: "Remote user for hosts whose inventory names none.")
    var user: String?

    @Option(name: .customLong("private-key"), help: ArgumentHelp("Key file for hosts whose inventory names none.", valueName: "FILE"))
    var privateKey: String?

    func validate() throws {
        if forks < 1 { throw ValidationError("--forks must be at least 1 (got \(forks))") }
        if handshakes < 1 { throw ValidationError("--handshakes must be at least 1 (got \(handshakes))") }
        if !(connectTimeout > 0) { throw ValidationError("--connect-timeout must be a positive number of seconds") }
    }

    func sshConfiguration() -> SSHConfiguration {
        var c = SSHConfiguration()
        if !knownHosts.isEmpty { c.knownHostsFiles = knownHosts }
        c.hostKeyPolicy = hostKeyPolicy
        c.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        c.maxConcurrentHandshakes = handshakes
        if let user { c.defaultUser = user }
        if let privateKey { c.defaultIdentityFiles = [privateKey] }
        c.warn = { message in FileHandle.standardError.write(Data("fleetup: \(message)\n".utf8)) }
        return c
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

/// Seconds given on the command line (`2`, `0.5`) as a Duration.
func duration(seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }
