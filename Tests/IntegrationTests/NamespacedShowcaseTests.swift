import FleetLocal
import Foundation
import Testing

@testable import FleetTestFleet

/// The showcase playbooks, unchanged but for the pauses, run by the built fleetup on hosts
/// that look like servers (issue 13): logged in as `deploy`, real sudo, the app's files at
/// their real paths owned by the app's user, who runs its services. Part of the namespaced
/// suite (serialized with its stale-namespace sweep test).
extension NamespaceFleetTests {
    /// Every file under `path` (the host's folder side) with an owner other than `uid`.
    static func notOwned(by uid: uid_t, under path: String) -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        var all = [path]
        if let walk = fm.enumerator(atPath: path) { all += walk.compactMap { $0 as? String }.map { "\(path)/\($0)" } }
        for file in all {
            var st = stat()
            if lstat(file, &st) == 0, st.st_uid != uid { out.append(file) }
        }
        return out
    }

    /// The user a process runs as (its real uid, from /proc).
    static func uid(of pid: pid_t) -> uid_t? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) }
    }

    @Test(
        "Mattermost on namespaced hosts with PostgreSQL: real paths, sudo, pg_dump; the install its user's, the app run as it, the schema migrated",
        .enabled(if: DatabaseHost.available, "needs PostgreSQL's server (Debian's postgresql)"))
    func mattermostShowcase() async throws {
        var spec = FleetSpec(
            groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.1.0", "5.2.0"], startApps: true)
        spec.namespaces = true
        spec.database = true
        let (database, links, dir) = try await TestFleet.with(spec) { fleet -> (DatabaseHost, [String], String) in
            // The fleet's inventory says only what a real one does.
            let inventory = try String(contentsOfFile: fleet.inventoryPath, encoding: .utf8)
            for word in ["host_root", "install_dir", "app_port", "ansible_become", "ansible_port", "db_engine"] {
                #expect(!inventory.contains(word), "\(word) in \(inventory)")
            }
            let database = try #require(fleet.database)
            let scenario = try await RunScenario.mattermost(fleet)
            let r = try await scenario.run()
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let app = uid_t(Namespaces.appID)
            let password = try #require(fleet.hosts[0].database?.password)
            let run = try #require(try scenario.latestRun())
            for file in [run.journal, "\(run.path)/report.md", "\(run.path)/run.json"] {
                #expect(try !String(contentsOfFile: file, encoding: .utf8).contains(password), "\(file) holds the database password")
            }
            for host in fleet.hosts {
                let account = try #require(host.database)
                // Each start migrated the host's own database; the last to 5.3.0.
                #expect(try database.query("SELECT version FROM fleetup_schema", database: account.database) == "5.3.0\n", "\(host.name)")
                #expect(
                    fleet.appLog(of: host).contains("info: mattermost migrated the database schema from 5.2.0 to 5.3.0"), "\(host.name)")
                #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)")
                // Unpacked by root, given back to mattermost; its server runs as mattermost.
                #expect(Self.notOwned(by: app, under: host.installDir).isEmpty, "\(host.name)")
                let pid = try #require(fleet.runningPid(of: "mattermost", on: host))
                #expect(Self.uid(of: pid) == app, "\(host.name)")
                #expect(fleet.appLog(of: host).last == "info: mattermost 5.3.0 started, listening on 127.0.0.1:8065")
                // The backups in the host's own /var/backups (root's), the upload gone from its /tmp.
                let from = try #require(host.name == "prod01" ? "5.2.0" : "5.1.0" as String?)
                let backup = "\(host.root)/var/backups/mattermost/\(from)"
                for file in ["config.json", "db.dump", "data.tar.gz", "install.tar.gz"] {
                    #expect(FileManager.default.fileExists(atPath: "\(backup)/\(file)"), "\(host.name): \(file)")
                }
                // A real pg_dump -Fc archive of the host's database, as it was before the hop.
                let list = try await TestFleet.runProgram(try Tool.path(of: "pg_restore"), ["--list", "\(backup)/db.dump"])
                #expect(
                    list.status == 0 && list.stdout.contains("TABLE DATA public fleetup_schema \(account.role)"),
                    "\(list.stdout)\(list.stderr)")
                // Written by root (sudo), config.json keeping mattermost's ownership (cp -p).
                for (file, owner) in [(backup, uid_t(0)), ("\(backup)/install.tar.gz", 0), ("\(backup)/config.json", app)] {
                    var st = stat()
                    #expect(lstat(file, &st) == 0 && st.st_uid == owner, "\(file)")
                }
                let tmp = try FileManager.default.contentsOfDirectory(atPath: "\(host.root)/tmp")
                #expect(!tmp.contains { $0.hasPrefix("mattermost-") }, "\(host.name): \(tmp)")
            }
            try await Self.goBack(fleet.hosts[1], from: "5.3.0", to: "5.2.0", in: fleet)
            return (database, fleet.hosts.compactMap { $0.namespace?.outerLink }, fleet.directory)
        }
        // Down took everything with it: the namespaces (the database's too), the links, the
        // mounts, the processes (sshd, the apps, PostgreSQL).
        #expect(!Namespaces.ours().contains(database.netns))
        let linkList = try Tool.run(try Tool.path(of: "ip"), ["-o", "link", "show"])
        #expect(links.count == 3 && links.allSatisfy { !linkList.contains($0 + "@") }, "\(linkList)")
        #expect(try !String(contentsOfFile: "/proc/mounts", encoding: .utf8).contains(dir))
        #expect(Processes.all(commandLineContaining: dir + "/").isEmpty)
    }

    /// After the point of no return the old release alone cannot come back: its install
    /// restored, it refuses the migrated schema; with the database restored from the hop's
    /// pg_dump too, it starts. Done as an operator would, over SSH with sudo.
    static func goBack(_ host: FleetHost, from: String, to: String, in fleet: TestFleet) async throws {
        let account = try #require(host.database)
        let backup = "/var/backups/mattermost/\(to)"
        func exec(_ script: String) async throws -> LocalProcess.Exit {
            try await TestFleet.runProgram(
                try TestFleet.builtProduct("fleetup"),
                ["exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "--limit", host.name, "-b", "--", script])
        }
        let installOnly = try await exec(
            "systemctl stop mattermost && tar -xzf \(backup)/install.tar.gz -C /opt/mattermost && systemctl start mattermost")
        #expect(installOnly.status != 0, "\(installOnly.stdout)")
        #expect(
            installOnly.stdout.contains("the database schema is at \(from), newer than this release \(to)"),
            "\(installOnly.stdout)\(installOnly.stderr)")
        let withDump = try await exec(
            "PGPASSWORD=\(account.password) pg_restore -h \(DatabaseHost.address) -U \(account.role) -d \(account.database) "
                + "--clean --if-exists \(backup)/db.dump && systemctl start mattermost && systemctl is-active mattermost")
        #expect(withDump.status == 0, "\(withDump.stdout)\(withDump.stderr)")
        #expect(try fleet.database?.query("SELECT version FROM fleetup_schema", database: account.database) == "\(to)\n")
        #expect(fleet.appLog(of: host).last == "info: mattermost \(to) started, listening on 127.0.0.1:8065")
    }

    @Test("Flow on namespaced hosts: git, bundle and rails run as flow (the checkout stays its own), services restart as root")
    func flowShowcase() async throws {
        var spec = FleetSpec(
            groups: [.init("staging", 1), .init("prod", 2)], layout: .flow, versions: ["v3.0.0", "v3.1.0"], startApps: true)
        spec.namespaces = true
        try await TestFleet.with(spec) { fleet in
            let scenario = try RunScenario.flow(fleet)
            let r = try await scenario.run()
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let app = uid_t(Namespaces.appID)
            for host in fleet.hosts {
                #expect(try fleet.installedVersion(of: host) == "v3.1.2", "\(host.name)")
                // A git fetch or checkout run as root would leave root's files in .git.
                #expect(Self.notOwned(by: app, under: "\(host.root)/home/flow").isEmpty, "\(host.name)")
                #expect(fleet.flowLog(of: host).last == "cache clear v3.1.2", "\(host.name)")
                #expect(fleet.serviceLog(of: host).prefix(2) == ["restart flow-sidekiq", "reload flow-web"], "\(host.name)")
                for unit in host.units {
                    let pid = try #require(fleet.runningPid(of: unit, on: host), "\(host.name) \(unit)")
                    #expect(Self.uid(of: pid) == app, "\(host.name) \(unit)")
                }
            }
        }
    }
}
