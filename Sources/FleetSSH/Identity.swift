import FleetCore

/// A way to prove who we are to a server, resolved once per run before connecting.
enum Identity: Sendable, Hashable, CustomStringConvertible {
    /// An unencrypted private key, read from disk once and handed to libssh2 from memory,
    /// with its public key line when the file holds one (see `PrivateKeyFile.publicKeyLine`).
    case key(path: String, type: String, privateKey: [UInt8], publicKey: String?)
    /// Every key an ssh-agent holds: the user's (`SSH_AUTH_SOCK`), or fleetup's own agent
    /// holding encrypted keys it decrypted once.
    case agent(socket: String, label: String)
    /// A key file that cannot be offered, and why (kept for the failure message).
    case unusable(path: String, why: String)

    var description: String {
        switch self {
        case .key(let path, let type, _, _): return "key \(path) (\(type))"
        case .agent(_, let label): return label
        case .unusable(let path, _): return "key \(path)"
        }
    }

    var isUsable: Bool {
        if case .unusable = self { return false }
        return true
    }
}

/// Everything one connection needs, resolved before it starts (no lookups on the reactor).
struct ConnectPlan: Sendable {
    /// How the bytes reach the host.
    enum Transport: Sendable {
        /// A TCP connection to this address.
        case tcp(SocketAddress)
        /// A socket already connected through a jump host (the bridge's other end).
        case bridged(fd: Int32)
    }

    var hostName: String
    /// The endpoint as messages name it (`127.0.0.1:2201`, `web1:22 via bastion`).
    var address: String
    var transport: Transport
    /// The name and port known_hosts is searched for (the address, or a HostKeyAlias).
    var hostKeyName: String
    var port: Int
    var user: String
    var identities: [Identity]
    var knownHosts: KnownHostsStore
    var policy: HostKeyPolicy
    /// TCP connect + SSH handshake + authentication.
    var connectTimeout: Duration
    /// ServerAliveInterval (zero: no keepalives) and ServerAliveCountMax.
    var keepaliveInterval: Duration
    var keepaliveCountMax: Int
    /// Where warnings go (a host key accepted unchecked).
    var warn: @Sendable (String) -> Void
    /// Commands go down one persistent shell per host (`RemoteShell`) where they can.
    var persistentShell = false

    /// `host01 (127.0.0.1:2222)` for messages.
    var label: String { "\(hostName) (\(address))" }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (s, atto) = components
        return UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, atto)) / 1_000_000_000
    }

    static func nanoseconds(_ ns: UInt64) -> Duration { .nanoseconds(Int64(ns)) }
}
