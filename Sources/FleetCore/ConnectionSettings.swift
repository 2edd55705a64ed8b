/// What `--host-key-policy` (or ssh_config's StrictHostKeyChecking) allows when a host's key
/// is not in known_hosts.
public enum HostKeyPolicy: String, Sendable, Hashable, CaseIterable {
    /// Unknown and changed keys are refused (the default; StrictHostKeyChecking yes).
    case strict
    /// Unknown keys are recorded in the first known_hosts file; changed keys are still refused.
    case acceptNew = "accept-new"
    /// Any key is accepted and nothing is recorded (StrictHostKeyChecking no): only from an
    /// ssh_config the operator wrote, and fleetup warns loudly for every such host.
    case insecureAcceptAny = "no"
}

/// Everything needed to open one SSH connection: one value, filled from the inventory's
/// connection vars, then ssh_config (vars win, as in Ansible), then run-wide defaults.
/// Optional fields left nil mean "use the run's default" (`SSHConfiguration`).
public struct ConnectionSettings: Sendable, Hashable {
    /// The inventory name, for messages.
    public var hostName: String
    /// Address to connect to (`ansible_host`, ssh_config HostName, or the inventory name).
    public var address: String
    public var port: Int
    /// Remote user; nil means the run's default user (the local user's name).
    public var user: String?
    /// Private key files to offer, in order (`ansible_ssh_private_key_file`, IdentityFile).
    public var identityFiles: [String]
    /// IdentitiesOnly: offer only `identityFiles`, not the agent's keys.
    public var identitiesOnly: Bool
    /// IdentityAgent: an agent socket for this host; `"none"` means no agent; nil: the run's.
    public var identityAgent: String?
    /// The hops to go through, first to last (ProxyJump), each fully resolved itself.
    public var jumps: [ConnectionSettings]
    /// UserKnownHostsFile (the first also records accept-new keys); nil: the run's files.
    public var knownHostsFiles: [String]?
    /// GlobalKnownHostsFile (read only); nil: the run's.
    public var globalKnownHostsFiles: [String]?
    /// StrictHostKeyChecking; nil: the run's `--host-key-policy`.
    public var hostKeyPolicy: HostKeyPolicy?
    /// HostKeyAlias: the name known_hosts is searched for instead of the address.
    public var hostKeyAlias: String?
    /// ConnectTimeout; nil: the run's `--connect-timeout`.
    public var connectTimeout: Duration?
    /// ServerAliveInterval (nil: the run's default) and ServerAliveCountMax.
    public var serverAliveInterval: Duration?
    public var serverAliveCountMax: Int?
    /// Why this host must not be connected to at all (its settings could not be resolved);
    /// the executor fails it with this message before any lookup or connection.
    public var problem: String?

    public init(
        hostName: String, address: String, port: Int = 22, user: String? = nil,
        identityFiles: [String] = [], identitiesOnly: Bool = false, identityAgent: String? = nil,
        jumps: [ConnectionSettings] = [], knownHostsFiles: [String]? = nil,
        globalKnownHostsFiles: [String]? = nil, hostKeyPolicy: HostKeyPolicy? = nil,
        hostKeyAlias: String? = nil, connectTimeout: Duration? = nil,
        serverAliveInterval: Duration? = nil, serverAliveCountMax: Int? = nil
    ) {
        self.hostName = hostName
        self.address = address
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
        self.identitiesOnly = identitiesOnly
        self.identityAgent = identityAgent
        self.jumps = jumps
        self.knownHostsFiles = knownHostsFiles
        self.globalKnownHostsFiles = globalKnownHostsFiles
        self.hostKeyPolicy = hostKeyPolicy
        self.hostKeyAlias = hostKeyAlias
        self.connectTimeout = connectTimeout
        self.serverAliveInterval = serverAliveInterval
        self.serverAliveCountMax = serverAliveCountMax
    }

    /// Reads Ansible's connection variables only (`ansible_host`, `ansible_port`,
    /// `ansible_user`, `ansible_ssh_private_key_file` and their `ansible_ssh_` spellings).
    /// ssh_config and jump hosts are resolved in FleetSSH on top of these.
    public init(hostName: String, vars: [String: VarValue]) {
        func text(_ names: String...) -> String? {
            for n in names { if let v = vars[n]?.scalarText, !v.isEmpty { return v } }
            return nil
        }
        self.init(
            hostName: hostName,
            address: text("ansible_host", "ansible_ssh_host") ?? hostName,
            port: text("ansible_port", "ansible_ssh_port").flatMap { Int($0) } ?? 22,
            user: text("ansible_user", "ansible_ssh_user"),
            identityFiles: text("ansible_ssh_private_key_file", "ansible_private_key_file").map { [$0] } ?? [])
    }

    /// `address:port`, the way messages name the endpoint.
    public var endpoint: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// Jump hops first to last, then this host: `ops@bastion:2222 -> web1:22`.
    public var route: String {
        (jumps.map { ($0.user.map { "\($0)@" } ?? "") + $0.endpoint } + [endpoint]).joined(separator: " -> ")
    }
}
