import FleetCore
import Foundation

/// Making connections: directly over TCP, or through a chain of jump hosts whose
/// connections are pooled like any other, so one jump session serves every host behind it.
extension SSHExecutor {
    /// Connects with retries: refused and banner-less connections are tried again after a
    /// doubling, jittered backoff (a restarting sshd, MaxStartups drops).
    func establish(_ settings: ConnectionSettings) async throws -> (SSHConnection, ConnectionInfo) {
        var failures: [String] = []
        let attempts = max(1, configuration.connectAttempts)
        for attempt in 1...attempts {
            try Task.checkCancellation()
            let plan = try await makePlan(settings)
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
        throw RemoteError(.unreachable, host: settings.hostName, failures.last ?? "no attempt was made")
    }

    /// Everything one attempt needs. A host behind jump hosts gets a fresh bridge through
    /// the last hop's (pooled) connection; its address is resolved by that hop, not here.
    private func makePlan(_ settings: ConnectionSettings) async throws -> ConnectPlan {
        if let problem = settings.problem { throw RemoteError(.unreachable, host: settings.hostName, problem) }
        let transport: ConnectPlan.Transport
        let label: String
        if let last = settings.jumps.last {
            let jump = try await jumpConnection(settings)
            do {
                transport = .bridged(fd: try await jump.openBridge(to: settings.address, port: settings.port))
            } catch let e as RemoteError {
                throw RemoteError(e.kind, host: settings.hostName, "through jump host \(last.hostName): \(e.message)")
            }
            label = "\(settings.endpoint) via \(last.hostName)"
        } else {
            transport = .tcp(try await resolve(settings))
            label = settings.endpoint
        }
        return ConnectPlan(
            hostName: settings.hostName, address: label, transport: transport,
            hostKeyName: settings.hostKeyAlias ?? settings.address,
            port: settings.port, user: settings.user ?? configuration.defaultUser,
            identities: try await identities.identities(for: settings),
            knownHosts: knownHostsStore(settings),
            policy: settings.hostKeyPolicy ?? configuration.hostKeyPolicy,
            connectTimeout: settings.connectTimeout ?? configuration.connectTimeout,
            keepaliveInterval: settings.serverAliveInterval ?? configuration.serverAliveInterval,
            keepaliveCountMax: settings.serverAliveCountMax ?? configuration.serverAliveCountMax,
            warn: configuration.warn, persistentShell: configuration.persistentShell)
    }

    /// The connection to the last jump hop of `settings`, made through the hops before it.
    /// Pooled by the whole chain, so hosts behind the same bastion share its session.
    private func jumpConnection(_ settings: ConnectionSettings) async throws -> SSHConnection {
        var last = settings.jumps[settings.jumps.count - 1]
        last.jumps = Array(settings.jumps.dropLast())
        let hop = last
        let key = "jump \(hop.route) as \(hop.user ?? configuration.defaultUser)"
        do {
            return try await pool.connection(for: key) { try await self.establish(hop) }.connection
        } catch let e as RemoteError {
            throw RemoteError(e.kind, host: settings.hostName, "jump host \(hop.hostName) (\(hop.endpoint)): \(e.message)")
        }
    }

    private func resolve(_ settings: ConnectionSettings) async throws -> SocketAddress {
        let addresses: [SocketAddress]
        do {
            addresses = try await SocketAddress.resolve(settings.address, port: settings.port)
        } catch let e as SocketAddress.ResolveError {
            throw RemoteError(.unreachable, host: settings.hostName, "cannot resolve \(settings.address): \(e.message)")
        }
        guard let address = addresses.first else {
            throw RemoteError(.unreachable, host: settings.hostName, "\(settings.address) has no address")
        }
        return address
    }

    /// The store for the host's known_hosts files (the run's unless ssh_config names others),
    /// shared by every host that uses the same files.
    func knownHostsStore(_ settings: ConnectionSettings) -> KnownHostsStore {
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
