import FleetCore
import FleetLocal
import FleetSSH
import Foundation

extension TestFleet {
    /// Brings up a fleet in `directory` (created; it must not hold a running fleet).
    /// `fakeApp` is the built `fleet-fakeapp` binary; it is copied into the fleet.
    /// `owner`: the process whose end makes a namespaced fleet stale (a test's own pid);
    /// nil for a fleet that lives until `down` (scripts/fleet).
    public static func up(_ spec: FleetSpec, in directory: String, fakeApp: String, owner: pid_t? = nil) throws -> TestFleet {
        try up(spec, in: directory, fakeApp: fakeApp, owner: owner, beforeStart: { _ in })
    }

    /// `up`, with `beforeStart` called once the ports are chosen and before any daemon
    /// binds them (each attempt): a test takes a port there to prove a clash is survived.
    @_spi(Testing)
    public static func up(
        _ spec: FleetSpec, in directory: String, fakeApp: String, owner: pid_t? = nil, beforeStart: ([FleetHost]) throws -> Void
    ) throws -> TestFleet {
        let fm = FileManager.default
        // sshd re-executes itself for every connection from `/`: every path it is given
        // (config, host key, authorized keys) must be absolute.
        let directory = absolute(directory)
        if fm.fileExists(atPath: "\(directory)/fleet.json") {
            throw Tool.Failure(description: "a fleet is already up in \(directory); run `scripts/fleet down` first")
        }
        if spec.namespaces {
            guard Namespaces.available else {
                throw Tool.Failure(description: "namespaced test hosts need root, ip (iproute2), unshare and nsenter (util-linux)")
            }
            guard !(directory + "/").hasPrefix("/tmp/") else {
                throw Tool.Failure(
                    description: "a namespaced fleet's folder must be outside /tmp (each host binds its own /tmp over it): \(directory)")
            }
        }
        if let group = spec.bastionGroup {
            guard spec.namespaces, spec.groups.contains(where: { $0.name == group }) else {
                throw Tool.Failure(description: "a bastion is for namespaced fleets, in front of one of their groups (not \"\(group)\")")
            }
        }
        if spec.database {
            guard spec.namespaces, spec.layout == .mattermost else {
                throw Tool.Failure(description: "a database host is for namespaced fleets of the mattermost layout")
            }
            guard DatabaseHost.available else {
                throw Tool.Failure(description: "a database host needs PostgreSQL's server (Debian's postgresql) and runuser")
            }
        }
        if spec.layout != .plain && spec.app != spec.layout.app {
            throw Tool.Failure(
                description:
                    "the \(spec.layout) layout's app is \"\(spec.layout.app)\", not \"\(spec.app)\" (its playbook's units and folders)")
        }
        // A port found free can be taken by another process (a second test process, a
        // connection's source port where the ephemeral range reaches below 32768) before
        // sshd or the app binds it: such a clash is detected and the fleet comes up again
        // on new ports, a few times at most.
        var attempt = 1
        while true {
            do {
                return try upOnce(spec, in: directory, fakeApp: fakeApp, owner: owner, beforeStart: beforeStart)
            } catch let clash as PortClash where attempt < 5 {
                attempt += 1
                FileHandle.standardError.write(Data("testfleet: \(clash.description); bringing the fleet up on new ports\n".utf8))
            }
        }
    }

    /// A port the fleet was given was bound by someone else before its sshd or app could.
    struct PortClash: Error, CustomStringConvertible {
        var description: String
    }

    private static func upOnce(
        _ spec: FleetSpec, in directory: String, fakeApp: String, owner: pid_t?, beforeStart: ([FleetHost]) throws -> Void
    ) throws -> TestFleet {
        // A namespaced host is logged in to as an ordinary user with sudo, as a server is.
        let user = spec.namespaces ? Namespaces.loginUser : currentUser
        var hosts: [FleetHost] = []
        let total = spec.groups.reduce(0) { $0 + $1.count }
        let width = max(2, String(total).count)
        var n = 0
        for group in spec.groups {
            for i in stride(from: 1, through: group.count, by: 1) {
                n += 1
                let name =
                    spec.groups.count == 1 && group.name == "fleet"
                    ? "host" + pad(n, width) : group.name + pad(i, 2)
                // A namespaced host has the address's port 22 and its own 127.0.0.1.
                hosts.append(
                    FleetHost(
                        name: name, group: group.name, sshPort: spec.namespaces ? 22 : try PortAllocator.take(),
                        appPort: spec.namespaces ? spec.layout.port : try PortAllocator.take(), root: "\(directory)/hosts/\(name)",
                        app: spec.app, layout: spec.layout))
            }
        }
        var network = Network()
        if spec.namespaces { try network.make(for: &hosts, spec: spec, directory: directory, owner: owner) }
        let fleet = TestFleet(
            directory: directory, hosts: hosts, user: user, database: network.database, bastion: network.bastion, backEnd: network.backEnd)
        do {
            if let database = network.database {
                try database.start(accounts: hosts.compactMap(\.database))
            }
            try fleet.writeFiles(spec, fakeApp: fakeApp)
            try beforeStart(hosts)
            try fleet.startDaemons()
            if spec.startApps { try fleet.startApps() }
        } catch {
            // Only what `up` made goes: the caller's files in `directory` stay.
            try? fleet.down(keepFiles: true)
            fleet.removeFleetFiles()
            throw error
        }
        return fleet
    }

    /// Removes the files `up` writes into the fleet's folder (and nothing else of it).
    private func removeFleetFiles() {
        for path in [
            "\(directory)/hosts", "\(directory)/bastion", "\(directory)/db", "\(directory)/client", "\(directory)/bin", stateFile,
            knownHosts,
            inventoryPath, sshConfig,
        ] {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// The fleet described by `directory/fleet.json` (written by `up`).
    public static func attach(_ directory: String) throws -> TestFleet {
        let directory = absolute(directory)
        let url = URL(fileURLWithPath: "\(directory)/fleet.json")
        guard let data = try? Data(contentsOf: url) else {
            throw Tool.Failure(description: "no fleet in \(directory) (fleet.json is missing)")
        }
        let state = try JSONDecoder().decode(State.self, from: data)
        return TestFleet(
            directory: directory, hosts: state.hosts, user: state.user, database: state.database, bastion: state.bastion,
            backEnd: state.backEnd)
    }

    /// Stops every sshd (and its per-connection children) and every app this fleet
    /// started, checking each pid's command line first, then removes the fleet's files
    /// unless `keepFiles`.
    public func down(keepFiles: Bool = false) throws {
        var pids: [pid_t] = []
        for host in servers {
            if let pid = Processes.pid(inFile: host.sshdPidFile),
                Processes.commandLine(pid).contains(host.sshdConfig)
            {
                pids.append(pid)
                pids.append(contentsOf: Processes.children(of: pid))
            }
            let runDir = "\(host.root)/run"
            for file in (try? FileManager.default.contentsOfDirectory(atPath: runDir)) ?? [] where file.hasSuffix(".pid") {
                if let pid = Processes.pid(inFile: "\(runDir)/\(file)"),
                    Processes.commandLine(pid).contains("fleet-fakeapp")
                {
                    pids.append(pid)
                }
            }
        }
        // Also the fleet's sshd and app processes found by their command lines (the folder
        // is unique): an sshd whose pid file was not written yet when a failed `up` cleaned
        // up, an app server whose pid file was lost. Nothing else (a fleetup using the
        // fleet's inventory is not the fleet's to stop).
        let ours = Processes.all(commandLineContaining: directory + "/").filter {
            let line = Processes.commandLine($0)
            let sshd = line.hasPrefix("sshd") && (line.contains(directory + "/hosts/") || line.contains(directory + "/bastion/"))
            return sshd || line.hasPrefix(fakeApp)
        }
        for pid in ours where !pids.contains(pid) {
            pids.append(pid)
            pids.append(contentsOf: Processes.children(of: pid))
        }
        Processes.terminate(pids)
        // A namespace goes with everything still running in it (its sessions, its apps);
        // the database is stopped first (a clean shutdown, then its namespace).
        database?.stop()
        let namespaces = servers.compactMap(\.netns) + [backEnd].compactMap({ $0 })
        for netns in namespaces { Namespaces.remove(netns) }
        if !namespaces.isEmpty { Namespaces.releaseRangeIfUnused() }
        if !keepFiles { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Starts the app of one host (every unit of it), as its `systemctl start` would
    /// (logged in its services.log like any other start).
    public func startApp(on host: FleetHost) throws {
        for unit in host.units { try hostTool(host, ["systemctl", "start", unit]).wait() }
    }

    /// Stops the app of one host (every unit of it).
    public func stopApp(on host: FleetHost) throws {
        for unit in host.units { try hostTool(host, ["systemctl", "stop", unit]).wait() }
    }

    struct State: Codable {
        var user: String
        var hosts: [FleetHost]
        var database: DatabaseHost?
        var bastion: FleetHost?
        var backEnd: String?
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/"))
            .standardizedFileURL.path
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

extension TestFleet {
    private func writeFiles(_ spec: FleetSpec, fakeApp: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(directory)/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(directory)/client", withIntermediateDirectories: true)
        if fm.fileExists(atPath: self.fakeApp) { try fm.removeItem(atPath: self.fakeApp) }
        guard let program = fm.contents(atPath: fakeApp) else {
            throw Tool.Failure(description: "cannot read \(fakeApp)")
        }
        try LocalProcess.writeFile(self.fakeApp, [UInt8](program), mode: 0o755)
        // Written first, so `down` can clean up even if a later step fails.
        try JSONEncoder().encode(State(user: user, hosts: hosts, database: database, bastion: bastion, backEnd: backEnd)).write(
            to: URL(fileURLWithPath: stateFile))

        let keygen = try Tool.path(of: "ssh-keygen")
        try Tool.run(keygen, ["-q", "-t", "ed25519", "-N", "", "-C", "fleetup-test-client", "-f", clientKey])
        try fm.copyItem(atPath: clientKey + ".pub", toPath: authorizedKeys)

        let versions = hosts.indices.map { spec.versions.isEmpty ? spec.layout.defaultVersion : spec.versions[$0 % spec.versions.count] }
        for (host, version) in zip(servers, versions + [FleetSpec.Layout.plain.defaultVersion]) {
            for dir in ["home", "bin", "units", "run", "control", "log"] + (host.netns == nil ? [] : Namespaces.privateFolders) {
                try fm.createDirectory(atPath: "\(host.root)/\(dir)", withIntermediateDirectories: true)
            }
            // A namespaced host's /tmp is a server's: every user writes there, sticky.
            if host.netns != nil, chmod("\(host.root)/tmp", 0o1777) != 0 {
                throw Tool.Failure(description: "cannot chmod \(host.root)/tmp: \(String(cString: strerror(errno)))")
            }
            try write(
                FleetLayout.systemctlScript(fakeApp: self.fakeApp, hostRoot: host.root), to: "\(host.root)/bin/systemctl", mode: 0o755)
            try write(FleetLayout.sshdConfig(host, authorizedKeys: authorizedKeys, users: [user] + spec.extraUsers), to: host.sshdConfig)
            switch host.layout {
            case .plain: try writePlainApp(host, version: version)
            case .mattermost: try writeMattermost(host, version: version)
            case .flow: try writeFlowHost(host)
            }
            if host.netns != nil {
                let password = spec.sudoPassword.flatMap { $0.group == host.group ? $0.password : nil }
                try writeUsers(host, sudoPassword: password)
            }
        }
        if spec.layout == .flow { try checkOutFlow(versions) }
        for host in hosts where host.netns != nil { try giveAppFiles(host) }
        try Tool.inParallel(servers) { host in
            try LocalProcess(keygen, ["-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", host.hostKey])
        }
        var knownHosts = ""
        for host in servers {
            let pub = try String(contentsOfFile: host.hostKey + ".pub", encoding: .utf8).split(separator: " ")
            // known_hosts names a host on port 22 by its address alone, any other port as [host]:port.
            let id = host.sshPort == 22 ? host.address : "[\(host.address)]:\(host.sshPort)"
            knownHosts += "\(id) \(pub[0]) \(pub[1])\n"
        }
        try write(knownHosts, to: self.knownHosts)
        try write(
            FleetLayout.inventory(
                hosts, user: user, clientKey: clientKey, knownHosts: self.knownHosts, sshConfig: bastion.map { _ in sshConfig }),
            to: inventoryPath)
        if let bastion {
            try write(FleetLayout.bastionSSHConfig(bastion, user: user, clientKey: clientKey, knownHosts: self.knownHosts), to: sshConfig)
        }
    }

    /// A namespaced host's own users: its /etc files, `deploy`'s home, the app's files
    /// owned by the app's user.
    private func writeUsers(_ host: FleetHost, sudoPassword: String?) throws {
        try FileManager.default.createDirectory(atPath: "\(host.root)/etc", withIntermediateDirectories: true)
        // The password's SHA-512 crypt hash, as /etc/shadow holds it (openssl passwd -6).
        let hash = try sudoPassword.map {
            try Tool.run(try Tool.path(of: "openssl"), ["passwd", "-6", "-salt", "fleetup\(host.name.count)", $0])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for f in Namespaces.etcFiles(host: host.name, app: host.app, passwordHash: hash) {
            try write(f.text, to: "\(host.root)/etc/\(f.name)", mode: f.mode)
        }
        // The app's own /etc/APP (empty), its user's, as a package would leave it.
        let etcApp = "\(host.root)/etc/\(host.app)"
        try FileManager.default.createDirectory(atPath: etcApp, withIntermediateDirectories: true)
        guard chown(etcApp, uid_t(Namespaces.appID), gid_t(Namespaces.appID)) == 0 else {
            throw Tool.Failure(description: "cannot chown \(etcApp): \(String(cString: strerror(errno)))")
        }
        let home = "\(host.root)/home/\(Namespaces.loginUser)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        guard chown(home, uid_t(Namespaces.loginID), gid_t(Namespaces.loginID)) == 0 else {
            throw Tool.Failure(description: "cannot chown \(home): \(String(cString: strerror(errno)))")
        }
    }

    /// A namespaced host's app files owned by the app's user (the Flow checkout with its
    /// user's home), and the fleet's log and run folders open to every user of the host (a
    /// step run as the app's user logs what its fake tools did; a test's own step, run as
    /// the login user, leaves its markers in run/).
    private func giveAppFiles(_ host: FleetHost) throws {
        let files = host.layout == .flow ? "\(host.root)/home/flow" : host.installDir
        try Tool.run(try Tool.path(of: "chown"), ["-R", "\(Namespaces.appID):\(Namespaces.appID)", files])
        for dir in ["log", "run"] where chmod("\(host.root)/\(dir)", 0o1777) != 0 {
            throw Tool.Failure(description: "cannot chmod \(host.root)/\(dir): \(String(cString: strerror(errno)))")
        }
    }

    private func startDaemons() throws {
        if geteuid() == 0 {
            // sshd running as root needs its privilege separation folder.
            try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }
        let sshd = try Tool.path(of: "sshd")
        // sshd forks into the background first and binds its port in the child: its exit
        // status says the configuration was good, not that it listens. The child writes
        // its pid file once its socket listens (sshd.c, "after … the listen sockets are
        // bound"): that file is the event to wait for. A first connection before it was
        // refused on a busy machine.
        try Tool.inParallel(servers) { host in
            unlink(host.sshdPidFile)
            if let netns = host.netns {
                let (program, args) = try Namespaces.sshdCommand(
                    netns: netns, name: host.name, root: host.root, sshd: sshd, config: host.sshdConfig, log: host.sshdLog)
                return try LocalProcess(program, args)
            }
            return try LocalProcess(sshd, ["-f", host.sshdConfig, "-E", host.sshdLog])
        }
        for host in servers { try waitUntilListening(host) }
    }

    /// Returns once `host`'s sshd has written its pid file (it listens), or throws with its
    /// log. The 60 s bound only guards against a hang: the file normally comes in
    /// milliseconds.
    private func waitUntilListening(_ host: FleetHost) throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var log: String { (try? String(contentsOfFile: host.sshdLog, encoding: .utf8)) ?? "" }
        while ContinuousClock.now < deadline {
            if let pid = Processes.pid(inFile: host.sshdPidFile), Processes.isAlive(pid) { return }
            // sshd logs a failed bind and exits: no pid file will come.
            if log.contains("Cannot bind any address") {
                throw PortClash(
                    description:
                        "\(host.name): ssh port \(host.sshPort) was taken by another process (sshd: \(log.split(separator: "\n").joined(separator: " ")))"
                )
            }
            usleep(2_000)
        }
        throw Tool.Failure(description: "\(host.name): sshd wrote no pid file within 60 s (it does once it listens): \(log)")
    }

    /// The fleet's own starts: not logged, so a fresh fleet's services.log is empty and a
    /// scenario's log holds exactly what it did.
    private func startApps() throws {
        let units = hosts.flatMap { host in host.units.map { (host, $0) } }
        do {
            try Tool.inParallel(units) { host, unit in try hostTool(host, ["systemctl", "start", unit], quiet: true) }
        } catch {
            // An app that could not start while its port is held by a process not of this
            // fleet lost its port to someone else.
            for host in hosts
            where host.netns == nil && !PortAllocator.isFree(host.appPort)
                && !host.units.contains(where: { runningPid(of: $0, on: host) != nil })
            {
                throw PortClash(description: "\(host.name): app port \(host.appPort) was taken by another process")
            }
            throw error
        }
    }

    /// The fake app's tool as the host runs it: in a namespaced host's namespaces.
    private func hostTool(_ host: FleetHost, _ args: [String], quiet: Bool = false) throws -> LocalProcess {
        var env = ProcessInfo.processInfo.environment
        env["FLEET_HOST_ROOT"] = host.root
        if quiet { env["FLEET_QUIET"] = "1" }
        if host.netns != nil {
            guard let pid = Processes.pid(inFile: host.sshdPidFile) else {
                throw Tool.Failure(description: "\(host.name): its sshd is not running (no pid file)")
            }
            let (program, arguments) = try Namespaces.inside(pid: pid, fakeApp, args)
            return try LocalProcess(program, arguments, environment: env)
        }
        return try LocalProcess(fakeApp, args, environment: env)
    }

    func write(_ text: String, to path: String, mode: Int? = nil) throws {
        try LocalProcess.writeFile(path, Array(text.utf8), mode: mode_t(mode ?? 0o644))
    }
}
