/// What `--host-key-policy` allows when a host's key is not in known_hosts.
public enum HostKeyPolicy: String, Sendable, Hashable, CaseIterable {
    /// Unknown and changed keys are refused (the default).
    case strict
    /// Unknown keys are recorded in the first known_hosts file; changed keys are still refused.
    case acceptNew = "accept-new"
}

/// Everything needed to open one SSH connection: one value, so later sources
/// (ssh_config, jump hosts) fill the same fields.
public struct ConnectionSettings: Sendable, Hashable {
    /// The inventory name, for messages.
    public var hostName: String
    /// Address to connect to (`ansible_host`, or the inventory name).
    public var address: String
    public var port: Int
    /// Remote user; nil means the local user's name.
    public var user: String?
    /// Private key files to offer, in order (`ansible_ssh_private_key_file`).
    public var identityFiles: [String]

    public init(hostName: String, address: String, port: Int = 22, user: String? = nil,
                identityFiles: [String] = []) {
        self.hostName = hostName
        self.address = address
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
    }

    /// Reads Ansible's connection variables (`ansible_host`, `ansible_port`, `ansible_user`,
    /// `ansible_ssh_private_key_file` and their `ansible_ssh_` spellings).
    public init(hostName: String, vars: [String: VarValue]) {
        func text(_ names: String...) -> String? {
            for n in names { if let v = vars[n]?.scalarText, !v.isEmpty { return v } }
            return nil
        }
        self.hostName = hostName
        self.address = text("ansible_host", "ansible_ssh_host") ?? hostName
        self.port = text("ansible_port", "ansible_ssh_port").flatMap { Int($0) } ?? 22
        self.user = text("ansible_user", "ansible_ssh_user")
        self.identityFiles = text("ansible_ssh_private_key_file", "ansible_private_key_file").map { [$0] } ?? []
    }

    /// `address:port`, the way messages name the endpoint.
    public var endpoint: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
