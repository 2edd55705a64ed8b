import FleetCore
import Foundation

import struct FleetCore.Host

/// The run-wide SSH settings (per-host ones come from the inventory's connection vars).
public struct SSHConfiguration: Sendable {
    /// known_hosts files fleetup reads and (the first) records to under `accept-new`.
    public var knownHostsFiles: [String]
    /// Read-only system files (`/etc/ssh/ssh_known_hosts`).
    public var globalKnownHostsFiles: [String]
    public var hostKeyPolicy: HostKeyPolicy
    /// TCP connect + handshake + authentication, per attempt.
    public var connectTimeout: Duration
    /// Attempts for a refused or banner-less connection before the host is unreachable.
    public var connectAttempts: Int
    /// The first wait between attempts; it doubles each time (with jitter).
    public var retryBackoff: Duration
    /// Handshakes in progress at once, over the whole fleet. Handshakes are the CPU-heavy
    /// part on both sides, and a server's sshd drops connections past MaxStartups.
    public var maxConcurrentHandshakes: Int
    /// The user's ssh-agent (`SSH_AUTH_SOCK`); nil or empty: no agent.
    public var agentSocket: String?
    /// Key files tried when the inventory names none (as ssh does).
    public var defaultIdentityFiles: [String]
    /// The passphrase for an encrypted key file, or nil.
    public var passphrase: @Sendable (String) -> String?
    /// The remote user when the inventory names none.
    public var defaultUser: String
    /// Keepalives (ServerAliveInterval, whole seconds; zero: none) after this long without a
    /// byte from the server; the host counts unreachable after `serverAliveCountMax`
    /// unanswered ones.
    public var serverAliveInterval: Duration = .seconds(15)
    public var serverAliveCountMax: Int = 3
    /// Send each host's commands down one persistent shell (`RemoteShell`: one channel per
    /// host for the whole run) instead of a channel per command. `fleetup run` and `resume`
    /// turn it on; a host whose login shell is not bash falls back to a channel per command.
    public var persistentShell = false
    /// Reactor threads sharing the connections.
    public var reactorThreads: Int
    /// How a host's connection settings are found: its inventory vars by default; the CLI
    /// puts ssh_config (and jump hosts) on top.
    public var resolve: @Sendable (Host) -> ConnectionSettings
    /// Receives warnings that must reach the operator (a host key accepted unchecked).
    public var warn: @Sendable (String) -> Void

    public init(
        knownHostsFiles: [String] = [NSHomeDirectory() + "/.ssh/known_hosts"],
        globalKnownHostsFiles: [String] = ["/etc/ssh/ssh_known_hosts"],
        hostKeyPolicy: HostKeyPolicy = .strict,
        connectTimeout: Duration = .seconds(10),
        connectAttempts: Int = 4,
        retryBackoff: Duration = .milliseconds(250),
        maxConcurrentHandshakes: Int = 64,
        agentSocket: String? = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"],
        defaultIdentityFiles: [String] = ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"],
        passphrase: @escaping @Sendable (String) -> String? = { _ in
            ProcessInfo.processInfo.environment["FLEETUP_SSH_PASSPHRASE"]
        },
        defaultUser: String = SSHConfiguration.localUser,
        reactorThreads: Int = 1,
        resolve: @escaping @Sendable (Host) -> ConnectionSettings = { $0.connection },
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.knownHostsFiles = knownHostsFiles
        self.globalKnownHostsFiles = globalKnownHostsFiles
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.connectAttempts = connectAttempts
        self.retryBackoff = retryBackoff
        self.maxConcurrentHandshakes = maxConcurrentHandshakes
        self.agentSocket = agentSocket
        self.defaultIdentityFiles = defaultIdentityFiles
        self.passphrase = passphrase
        self.defaultUser = defaultUser
        self.reactorThreads = reactorThreads
        self.resolve = resolve
        self.warn = warn
    }

    /// The name of the user running fleetup.
    public static var localUser: String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "root"
    }
}
