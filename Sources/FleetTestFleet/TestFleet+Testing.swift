import FleetCore
import FleetLocal
import FleetSSH
import Foundation

extension TestFleet {
    /// Runs `body` with a fresh fleet in a temporary folder, and always stops it after.
    /// The fleet is started and stopped on threads of their own (they wait for processes),
    /// never on the cooperative pool.
    public static func with<T: Sendable>(_ spec: FleetSpec, _ body: (TestFleet) async throws -> T) async throws -> T {
        // A namespaced fleet's folder is outside /tmp: each host binds its own /tmp.
        let base = spec.namespaces ? "/var/tmp/" : NSTemporaryDirectory()
        let dir = base + "fleetup-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let fakeApp = try builtFakeApp()
        // FLEETUP_KEEP_FLEETS=1 keeps each fleet's files (sshd logs) after its test, for debugging.
        let keep = ProcessInfo.processInfo.environment["FLEETUP_KEEP_FLEETS"] == "1"
        let owner = getpid()
        let fleet = try await offPool { try TestFleet.up(spec, in: dir, fakeApp: fakeApp, owner: owner) }
        do {
            let result = try await body(fleet)
            try await offPool { try fleet.down(keepFiles: keep) }
            return result
        } catch {
            try? await offPool { try fleet.down(keepFiles: keep) }
            throw error
        }
    }

    /// SSH settings that trust exactly this fleet (its known_hosts, no agent, no ~/.ssh keys).
    public func sshConfiguration(policy: HostKeyPolicy = .strict) -> SSHConfiguration {
        SSHConfiguration(
            knownHostsFiles: [knownHosts], globalKnownHostsFiles: [], hostKeyPolicy: policy,
            connectTimeout: .seconds(10), agentSocket: nil, defaultIdentityFiles: [],
            passphrase: { _ in nil })
    }

    /// The `fleet-fakeapp` built beside the running test binary (or `$FLEET_FAKEAPP`).
    public static func builtFakeApp() throws -> String {
        if let path = ProcessInfo.processInfo.environment["FLEET_FAKEAPP"] { return path }
        return try builtProduct("fleet-fakeapp")
    }

    /// A product of this package built beside the running test binary (`fleetup`).
    public static func builtProduct(_ name: String) throws -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw Tool.Failure(description: "\(name) is not built; run `swift build --build-tests` (scripts/test does)")
    }

    /// Runs a local program to its end on a thread of its own (never the cooperative pool).
    public static func runProgram(
        _ path: String, _ arguments: [String],
        environment: [String: String]? = nil
    ) async throws -> LocalProcess.Exit {
        try await LocalProcess.result(of: path, arguments, environment: environment)
    }

    /// Ends every SSH connection of one host (its sshd keeps listening), as an idle
    /// timeout or a restart of sshd would.
    public func stopConnections(on host: FleetHost) {
        guard let pid = Processes.pid(inFile: host.sshdPidFile),
            Processes.commandLine(pid).contains(host.sshdConfig)
        else { return }
        Processes.terminate(Processes.descendants(of: pid))
    }

    /// Waits on a thread of its own for a started program to end.
    public static func waitForExit(_ process: LocalProcess) async throws -> LocalProcess.Exit {
        try await process.exited()
    }

    /// Stops (SIGSTOP) the sshd processes serving one host's connections, as a frozen
    /// machine or a silent network would; returns their pids (SIGCONT them to thaw).
    public func freezeConnections(on host: FleetHost) -> [pid_t] {
        guard let pid = Processes.pid(inFile: host.sshdPidFile),
            Processes.commandLine(pid).contains(host.sshdConfig)
        else { return [] }
        let sshd = Processes.descendants(of: pid).filter { Processes.commandLine($0).hasPrefix("sshd") }
        for p in sshd { kill(p, SIGSTOP) }
        return sshd
    }

    /// Stops one host's sshd with every process it started (its connections, their
    /// sessions and commands), as if the machine had gone away: the client sees its
    /// connections closed.
    public func stopSSH(on host: FleetHost) {
        guard let pid = Processes.pid(inFile: host.sshdPidFile),
            Processes.commandLine(pid).contains(host.sshdConfig)
        else { return }
        Processes.terminate([pid] + Processes.descendants(of: pid))
    }

    /// Lines of a host's sshd log that contain `text`.
    public func sshdLog(of host: FleetHost, containing text: String) -> [String] {
        // Lossy: a process killed mid-write can leave bytes that are not UTF-8.
        let log = FileManager.default.contents(atPath: host.sshdLog).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return log.split(separator: "\n").map(String.init).filter { $0.contains(text) }
    }
}

/// Runs blocking work on a thread of its own and awaits it.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await Blocking.run("fleetup-test-fleet", work)
}

extension FleetSpec {
    /// This spec on hosts that look like servers when the machine can make them (root, as
    /// CI runs): namespaced, and a Mattermost fleet with its PostgreSQL host; as given
    /// otherwise (loopback hosts), or with FLEETUP_TEST_LOOPBACK=1 (how a root machine checks
    /// the loopback path). The integration tests that upgrade hosts use it.
    public var onServers: FleetSpec {
        guard Namespaces.available, ProcessInfo.processInfo.environment["FLEETUP_TEST_LOOPBACK"] != "1" else { return self }
        var spec = self
        spec.namespaces = true
        if layout == .mattermost, DatabaseHost.available { spec.database = true }
        return spec
    }
}
