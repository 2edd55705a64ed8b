import FleetCore
import struct FleetCore.Host
import Foundation
import Synchronization

/// The real `RemoteExecutor`: libssh2 sessions driven by reactor threads, one connection
/// per host reused for every command, upload and tunnel of the run.
public final class SSHExecutor: RemoteExecutor {
    public let configuration: SSHConfiguration
    private let reactors: [Reactor]
    /// known_hosts files parsed once per distinct set (ssh_config may name others per host).
    private let knownHostsStores = Mutex<[[String]: KnownHostsStore]>([:])
    private let identities: IdentityResolver
    private let pool: ConnectionPool

    public init(_ configuration: SSHConfiguration = SSHConfiguration()) throws {
        self.configuration = configuration
        signal(SIGPIPE, SIG_IGN)
        reactors = try (0..<max(1, configuration.reactorThreads)).map { try Reactor(name: "fleetup-reactor-\($0)") }
        identities = IdentityResolver(configuration: configuration)
        pool = ConnectionPool(handshakes: AsyncSemaphore(configuration.maxConcurrentHandshakes))
    }

    deinit {
        for r in reactors { r.shutdown() }
    }

    /// How many encrypted keys this executor decrypted (once each, whatever the fleet size).
    public var keysDecrypted: Int {
        get async { await identities.decryptions }
    }

    // MARK: RemoteExecutor

    public func connect(_ host: Host) async throws -> ConnectionInfo {
        try await pool.connection(for: host.name) { try await self.establish(host) }.info
    }

    public func run(_ command: RemoteCommand, on host: Host) async throws -> CommandResult {
        let connection = try await pool.connection(for: host.name) { try await self.establish(host) }.connection
        return try await connection.run(command)
    }

    public func upload(_ source: UploadSource, to remotePath: String, mode: Int, on host: Host) async throws {
        let connection = try await pool.connection(for: host.name) { try await self.establish(host) }.connection
        try await connection.upload(source, to: remotePath, mode: mode)
    }

    public func openTunnel(to targetHost: String, port: Int, on host: Host) async throws -> any RemoteTunnel {
        let connection = try await pool.connection(for: host.name) { try await self.establish(host) }.connection
        return try await connection.openTunnel(to: targetHost, port: port)
    }

    /// True while the host has a live connection (one that has not failed or been closed).
    public func isConnected(_ host: Host) async -> Bool {
        await pool.isLive(host.name)
    }

    public func disconnect(_ host: Host) async {
        await pool.remove(host.name)?.close()
    }

    public func shutdown() async {
        for c in await pool.removeAll() { await c.close() }
        await identities.shutdown()
        for r in reactors { r.shutdown() }
    }

    // MARK: connecting

    /// Resolves, then connects with retries: refused and banner-less connections are tried
    /// again after a doubling, jittered backoff (a restarting sshd, MaxStartups drops).
    private func establish(_ host: Host) async throws -> (SSHConnection, ConnectionInfo) {
        let settings = configuration.resolve(host)
        let plan = try await makePlan(settings)
        var failures: [String] = []
        let attempts = max(1, configuration.connectAttempts)
        for attempt in 1...attempts {
            try Task.checkCancellation()
            let connection = SSHConnection(plan: plan, reactor: reactors[Int.random(in: 0..<reactors.count)])
            await pool.handshakes.acquire()
            do {
                let info = try await connection.start()
                await pool.handshakes.release()
                return (connection, info)
            } catch let failure as SetupFailure {
                await pool.handshakes.release()
                failures.append(failure.error.message)
                guard failure.retryable, attempt < attempts else {
                    var error = failure.error
                    if attempt > 1 { error.message += " (\(attempt) attempts)" }
                    throw error
                }
                let base = configuration.retryBackoff.nanoseconds << UInt64(attempt - 1)
                try await Task.sleep(for: .nanoseconds(base + UInt64.random(in: 0...base / 2)))
            }
        }
        throw RemoteError(.unreachable, host: host.name, failures.last ?? "no attempt was made")
    }

    private func makePlan(_ settings: ConnectionSettings) async throws -> ConnectPlan {
        let addresses: [SocketAddress]
        do {
            addresses = try await SocketAddress.resolve(settings.address, port: settings.port)
        } catch let e as SocketAddress.ResolveError {
            throw RemoteError(.unreachable, host: settings.hostName, "cannot resolve \(settings.address): \(e.message)")
        }
        guard let address = addresses.first else {
            throw RemoteError(.unreachable, host: settings.hostName, "\(settings.address) has no address")
        }
        return ConnectPlan(hostName: settings.hostName, address: address,
                           hostKeyName: settings.hostKeyAlias ?? settings.address,
                           port: settings.port, user: settings.user ?? configuration.defaultUser,
                           identities: try await identities.identities(for: settings),
                           knownHosts: knownHostsStore(settings),
                           policy: settings.hostKeyPolicy ?? configuration.hostKeyPolicy,
                           connectTimeout: settings.connectTimeout ?? configuration.connectTimeout,
                           warn: configuration.warn)
    }

    /// The store for the host's known_hosts files (the run's unless ssh_config names others),
    /// shared by every host that uses the same files.
    private func knownHostsStore(_ settings: ConnectionSettings) -> KnownHostsStore {
        let user = settings.knownHostsFiles ?? configuration.knownHostsFiles
        let global = settings.globalKnownHostsFiles ?? configuration.globalKnownHostsFiles
        return knownHostsStores.withLock { stores in
            let key = user + ["\u{0}"] + global
            if let s = stores[key] { return s }
            let s = KnownHostsStore(userFiles: user, globalFiles: global)
            stores[key] = s
            return s
        }
    }
}

/// One connection per host: concurrent first uses share one connect; a broken
/// connection is replaced on next use.
actor ConnectionPool {
    struct Entry: Sendable {
        var connection: SSHConnection
        var info: ConnectionInfo
    }

    let handshakes: AsyncSemaphore
    private var ready: [String: Entry] = [:]
    private var connecting: [String: Task<Entry, Error>] = [:]

    init(handshakes: AsyncSemaphore) { self.handshakes = handshakes }

    func connection(for host: String,
                    establish: @escaping @Sendable () async throws -> (SSHConnection, ConnectionInfo)) async throws -> Entry {
        if let entry = ready[host] {
            if !entry.connection.isBroken { return entry }
            ready[host] = nil
        }
        if let pending = connecting[host] { return try await pending.value }
        let task = Task { let (c, info) = try await establish(); return Entry(connection: c, info: info) }
        connecting[host] = task
        defer { connecting[host] = nil }
        let entry = try await task.value
        ready[host] = entry
        return entry
    }

    func isLive(_ host: String) -> Bool {
        ready[host].map { !$0.connection.isBroken } ?? false
    }

    func remove(_ host: String) -> SSHConnection? {
        ready.removeValue(forKey: host)?.connection
    }

    func removeAll() -> [SSHConnection] {
        defer { ready.removeAll() }
        return ready.values.map(\.connection)
    }
}
