import FleetCore
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// Hosts that are not what they claim: no banner, silent, or gone mid-command.
@Suite("connection failures")
struct ConnectFailureTests {
    func fakeHost(_ name: String, port: Int) -> FleetCore.Host {
        FleetCore.Host(name: name, vars: ["ansible_host": .string("127.0.0.1"), "ansible_port": .int(port)])
    }

    func executor(_ configure: (inout SSHConfiguration) -> Void) throws -> SSHExecutor {
        var c = SSHConfiguration(
            knownHostsFiles: [], globalKnownHostsFiles: [], agentSocket: nil,
            defaultIdentityFiles: [], passphrase: { _ in nil })
        c.retryBackoff = .milliseconds(20)
        configure(&c)
        return try SSHExecutor(c)
    }

    @Test("a server that closes without a banner is retried, then reported unreachable")
    func noBannerRetried() async throws {
        let server = try FakeServer(.closeAtOnce)
        defer { server.stop() }
        // A generous connect timeout: on a busy machine the fake server's thread may take
        // seconds to accept and close, which must not read as a silent server.
        let executor = try executor {
            $0.connectAttempts = 3
            $0.connectTimeout = .seconds(120)
        }
        let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: fakeHost("nobanner", port: server.port)) }
        await executor.shutdown()
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("(3 attempts)") == true)
        #expect(server.tally.accepted == 3)
    }

    @Test("a server that never speaks hits the connect timeout, and is not retried")
    func silentServerTimesOut() async throws {
        let server = try FakeServer(.holdSilently)
        defer { server.stop() }
        let executor = try executor { $0.connectTimeout = .milliseconds(500) }
        let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: fakeHost("silent", port: server.port)) }
        await executor.shutdown()
        #expect(error?.kind == .connectTimeout)
        #expect(error?.message.contains("SSH handshake") == true)
        #expect(server.tally.accepted == 1)
    }

    @Test("the handshake cap holds: never more than N servers are mid-handshake at once")
    func handshakeCap() async throws {
        let tally = FakeServer.Tally()
        let servers = try (0..<6).map { _ in try FakeServer(.holdSilently, tally: tally) }
        defer { servers.forEach { $0.stop() } }
        let executor = try executor {
            $0.connectTimeout = .milliseconds(300)
            $0.maxConcurrentHandshakes = 2
        }
        let errors = await withTaskGroup(of: RemoteError.Kind?.self) { group in
            for (i, s) in servers.enumerated() {
                group.addTask {
                    do {
                        _ = try await executor.run(RemoteCommand("true"), on: self.fakeHost("silent\(i)", port: s.port)); return nil
                    } catch let e as RemoteError { return e.kind } catch { return nil }
                }
            }
            return await group.reduce(into: [RemoteError.Kind?]()) { $0.append($1) }
        }
        await executor.shutdown()
        #expect(errors.count == 6)
        #expect(errors.allSatisfy { $0 == .connectTimeout })
        // Each server was reached (a reset under heavy load may add a retried connection).
        #expect(tally.accepted >= 6)
        #expect(tally.maxOpen <= 2)
    }

    @Test("a host whose sshd dies mid-command fails with connection-lost, without hanging")
    func hostVanishes() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let task = Task { try await executor.run(RemoteCommand("echo started; exec sleep 600"), on: host) }
            // Wait until the long command runs, then kill its sshd and every session process.
            let running = try await eventually {
                try await executor.run(RemoteCommand("pgrep -f 'sleep 600' >/dev/null"), on: host).succeeded
            }
            #expect(running)
            fleet.stopSSH(on: fleet.hosts[0])
            let error = await remoteError { _ = try await task.value }
            #expect(error?.kind == .connectionLost)
            // The next command finds the host gone: unreachable, not a hang.
            let next = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: host) }
            #expect(next?.kind == .unreachable)
        }
    }

    @Test("a connection the host closes while idle is noticed, and the next command reconnects")
    func idleConnectionClosed() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            // $PPID is the sshd process serving the connection: a new one means a new connection.
            let first = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
            #expect(await executor.isConnected(host))
            // Kill the per-connection sshd processes only: the listener stays up.
            fleet.stopConnections(on: fleet.hosts[0])
            let noticed = try await eventually { await !executor.isConnected(host) }
            #expect(noticed)
            let second = try await executor.run(RemoteCommand("echo $PPID"), on: host)
            #expect(second.succeeded)
            #expect(!first.isEmpty && second.stdout.text != first)
        }
    }
}

@Suite("frozen hosts")
struct FrozenHostTests {
    @Test("a host that freezes mid-command: the timeout still returns, then the connection is given up")
    func frozenHost() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            // The freeze must come before the timeout: with a whole suite of fleets running,
            // noticing the pid file and freezing took more than 1 s at times, and the kill got
            // through first (the connection then stayed healthy).
            let task = Task { try await executor.run(RemoteCommand("echo $$ > $HOME/pid; exec sleep 600", timeout: .seconds(5)), on: host) }
            let pidFile = fleet.hosts[0].root + "/home/pid"
            let started = try await eventually { hasLine(pidFile) }
            #expect(started)
            // Freeze the sshd processes serving the connection (the host stops answering).
            let frozen = fleet.freezeConnections(on: fleet.hosts[0])
            #expect(!frozen.isEmpty)
            defer { frozen.forEach { kill($0, SIGCONT) } }
            let result = try await task.value
            #expect(result.timedOut)
            // The kill request never gets an answer: the connection is declared dead, and a
            // new command neither hangs nor reuses it.
            let givenUp = try await eventually(within: .seconds(30)) { await !executor.isConnected(host) }
            #expect(givenUp)
        }
    }
}

@Suite("keepalives")
struct KeepaliveTests {
    @Test("a host that freezes during a command without a timeout is found by keepalives and counted unreachable")
    func frozenDuringLongCommand() async throws {
        try await withExecutor(
            FleetSpec(count: 1),
            configure: {
                $0.serverAliveInterval = .seconds(1)
                $0.serverAliveCountMax = 2
            }
        ) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let pidFile = fleet.hosts[0].root + "/home/pid"
            let task = Task { try await executor.run(RemoteCommand("echo $$ > $HOME/pid; exec sleep 600"), on: host) }
            let started = try await eventually { hasLine(pidFile) }
            #expect(started)
            let frozen = fleet.freezeConnections(on: fleet.hosts[0])
            defer { frozen.forEach { kill($0, SIGCONT) } }
            let error = await remoteError { _ = try await task.value }
            #expect(error?.kind == .unreachable)
            #expect(
                error?.message.contains("no answer to 2 keepalives (ServerAliveInterval 1 s, ServerAliveCountMax 2)") == true,
                "\(error?.message ?? "")")
        }
    }

    @Test("a host that freezes between two commands is given up by keepalives while idle; the next command connects anew")
    func frozenWhileIdle() async throws {
        try await withExecutor(
            FleetSpec(count: 1),
            configure: {
                $0.serverAliveInterval = .seconds(1)
                $0.serverAliveCountMax = 2
            }
        ) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            // $PPID is the sshd process serving the connection: a new one means a new connection.
            let first = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
            // Only the connection's own sshd processes stop: the listener still accepts.
            let frozen = fleet.freezeConnections(on: fleet.hosts[0])
            defer { frozen.forEach { kill($0, SIGCONT) } }
            #expect(!frozen.isEmpty)
            // No command runs and none has a timeout: only keepalives can find it. The wait is
            // on the event; its limit is only there so that a failure cannot hang the suite.
            let givenUp = try await eventually(within: .seconds(60)) { await !executor.isConnected(host) }
            #expect(givenUp)
            let second = try await executor.run(RemoteCommand("echo $PPID"), on: host)
            #expect(second.succeeded && !first.isEmpty && second.stdout.text != first)
        }
    }

    @Test("an idle connection stays up through keepalives while the host answers them")
    func idleButAlive() async throws {
        try await withExecutor(
            FleetSpec(count: 1),
            configure: {
                $0.serverAliveInterval = .seconds(1)
                $0.serverAliveCountMax = 1
            }
        ) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let first = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
            // Idle for several intervals: with one unanswered keepalive allowed, a missed
            // answer would have ended the connection.
            try await Task.sleep(for: .seconds(3.5))
            #expect(await executor.isConnected(host))
            #expect(try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text == first)
        }
    }
}
