import FleetCore
import Foundation
import Synchronization

import struct FleetCore.Host

/// The real `RemoteExecutor`: libssh2 sessions driven by reactor threads, one connection
/// per host reused for every command, upload and tunnel of the run.
public final class SSHExecutor: RemoteExecutor {
    public let configuration: SSHConfiguration
    let reactors: [Reactor]
    /// known_hosts files parsed once per distinct set (ssh_config may name others per host).
    let knownHostsStores = Mutex<[[String]: KnownHostsStore]>([:])
    let identities: IdentityResolver
    let pool: ConnectionPool
    /// Set by `shutdown`: the reactors are gone, so nothing may be started on them.
    private let isShutDown = Mutex(false)

    public init(_ configuration: SSHConfiguration = SSHConfiguration()) throws {
        self.configuration = configuration
        signal(SIGPIPE, SIG_IGN)
        Self.raiseOpenFilesLimit()
        reactors = try (0..<max(1, configuration.reactorThreads)).map { try Reactor(name: "fleetup-reactor-\($0)") }
        identities = IdentityResolver(configuration: configuration)
        pool = ConnectionPool(handshakes: AsyncSemaphore(configuration.maxConcurrentHandshakes))
    }

    deinit {
        for r in reactors { r.shutdown() }
    }

    /// Raises the soft limit on open files to the hard one. A run keeps every host's socket
    /// from its pre-flight to its end, and the usual soft limit (1,024, where the hard one
    /// is 524,288 on Debian) would end a fleet of a few thousand hosts with "too many open
    /// files". Go programs do the same when they start; nothing else changes.
    static func raiseOpenFilesLimit() {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }

    /// How many encrypted keys this executor decrypted (once each, whatever the fleet size).
    public var keysDecrypted: Int {
        get async { await identities.decryptions }
    }

    // MARK: RemoteExecutor

    /// Throws once the executor was shut down (an operation would wait for a reactor that
    /// no longer runs).
    private func checkLive(_ host: Host) throws {
        if isShutDown.withLock({ $0 }) { throw RemoteError(.cancelled, host: host.name, "fleetup's SSH executor was already shut down") }
    }

    public func connect(_ host: Host) async throws -> ConnectionInfo {
        try checkLive(host)
        return try await pool.connection(for: host.name) { try await self.establish(self.configuration.resolve(host)) }.info
    }

    public func run(_ command: RemoteCommand, on host: Host) async throws -> CommandResult {
        try checkLive(host)
        let connection = try await pool.connection(for: host.name) { try await self.establish(self.configuration.resolve(host)) }.connection
        return try await connection.run(command)
    }

    public func upload(_ source: UploadSource, to remotePath: String, mode: Int, on host: Host) async throws {
        try checkLive(host)
        let connection = try await pool.connection(for: host.name) { try await self.establish(self.configuration.resolve(host)) }.connection
        try await connection.upload(source, to: remotePath, mode: mode)
    }

    public func openTunnel(to targetHost: String, port: Int, on host: Host) async throws -> any RemoteTunnel {
        try checkLive(host)
        let connection = try await pool.connection(for: host.name) { try await self.establish(self.configuration.resolve(host)) }.connection
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
        isShutDown.withLock { $0 = true }
        for c in await pool.removeAll() { await c.close() }
        await identities.shutdown()
        for r in reactors { r.shutdown() }
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

    func connection(
        for host: String,
        establish: @escaping @Sendable () async throws -> (SSHConnection, ConnectionInfo)
    ) async throws -> Entry {
        if let entry = ready[host] {
            if !entry.connection.isBroken { return entry }
            ready[host] = nil
        }
        if let pending = connecting[host] { return try await pending.value }
        let task = Task {
            let (c, info) = try await establish(); return Entry(connection: c, info: info)
        }
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
