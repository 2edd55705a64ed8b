/// Why a remote operation failed, with the host it concerns.
public struct RemoteError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// No TCP connection (refused, no route, reset before the SSH banner), after retries.
        case unreachable
        /// The TCP connect, SSH handshake or authentication did not finish in time.
        case connectTimeout = "connect-timeout"
        /// The host key is not in known_hosts and the policy is strict.
        case hostKeyUnknown = "host-key-unknown"
        /// known_hosts holds a different key for this host: refused under every policy.
        case hostKeyChanged = "host-key-changed"
        /// The server accepted none of the identities offered.
        case authFailed = "auth-failed"
        /// A local problem with a key or agent (unreadable, wrong passphrase, unsupported type).
        case keyProblem = "key-problem"
        /// The SSH connection broke after it was established.
        case connectionLost = "connection-lost"
        /// The server refused a channel, an exec, a tunnel or an SFTP request.
        case channelFailed = "channel-failed"
        /// An SFTP upload failed (local file, remote path or permissions).
        case uploadFailed = "upload-failed"
        /// sudo did not let the command run as the become user (wrong or missing password,
        /// not in sudoers, no sudo).
        case becomeFailed = "become-failed"
        /// The operation was cancelled by fleetup (second Ctrl-C, shutdown).
        case cancelled
    }

    public var kind: Kind
    /// Inventory name of the host.
    public var host: String
    /// What happened, in lower case, with what was expected where it helps.
    public var message: String

    public init(_ kind: Kind, host: String, _ message: String) {
        self.kind = kind
        self.host = host
        self.message = message
    }

    /// True for failures that mean the host could not be reached or logged into at all.
    public var isConnectionFailure: Bool {
        switch kind {
        case .unreachable, .connectTimeout, .hostKeyUnknown, .hostKeyChanged, .authFailed, .keyProblem:
            return true
        case .connectionLost, .channelFailed, .uploadFailed, .becomeFailed, .cancelled:
            return false
        }
    }

    public var description: String { "\(host): \(kind.rawValue): \(message)" }
}

/// What a successful connection learnt about the server (`fleetup ping` shows it).
public struct ConnectionInfo: Sendable, Hashable {
    /// The server's SSH identification string (`SSH-2.0-OpenSSH_9.2p1 Debian-2`).
    public var serverBanner: String
    /// Host key algorithm and its SHA256 fingerprint (`ssh-ed25519`, `SHA256:…`).
    public var hostKeyType: String
    public var hostKeyFingerprint: String
    /// How the client authenticated (`publickey /path/key`, `agent key …`).
    public var authenticatedWith: String
    /// TCP connect to authenticated.
    public var setupDuration: Duration

    public init(
        serverBanner: String, hostKeyType: String, hostKeyFingerprint: String,
        authenticatedWith: String, setupDuration: Duration
    ) {
        self.serverBanner = serverBanner
        self.hostKeyType = hostKeyType
        self.hostKeyFingerprint = hostKeyFingerprint
        self.authenticatedWith = authenticatedWith
        self.setupDuration = setupDuration
    }
}

/// A byte stream to a port on the remote side (SSH direct-tcpip), for health probes.
public protocol RemoteTunnel: Sendable {
    /// Sends all bytes.
    func write(_ bytes: [UInt8]) async throws
    /// The next bytes received; nil once the remote side has closed.
    func read() async throws -> [UInt8]?
    /// Closes the channel (idempotent).
    func close() async
}

/// Where an upload's bytes come from.
public enum UploadSource: Sendable, Hashable {
    case file(path: String)
    case bytes([UInt8])
}

/// The one seam between fleetup's logic and the network: the SSH executor implements it,
/// a scripted one drives unit tests. Connections are made on first use and reused.
/// Failures are thrown as `RemoteError`.
public protocol RemoteExecutor: Sendable {
    /// Connects (handshake, host key, auth) if not connected yet.
    func connect(_ host: Host) async throws -> ConnectionInfo
    /// Runs a command in a new channel of the host's connection.
    func run(_ command: RemoteCommand, on host: Host) async throws -> CommandResult
    /// Writes a file on the host (atomically: a temporary name, then a rename) with `mode`.
    func upload(_ source: UploadSource, to remotePath: String, mode: Int, on host: Host) async throws
    /// Opens a tunnel from the host to `targetHost:port` as seen from the host.
    func openTunnel(to targetHost: String, port: Int, on host: Host) async throws -> any RemoteTunnel
    /// Closes the host's connection, if any.
    func disconnect(_ host: Host) async
    /// Closes every connection; the executor is unusable afterwards.
    func shutdown() async
}
