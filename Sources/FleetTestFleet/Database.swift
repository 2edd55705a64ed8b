import FleetCore
import FleetLocal
import Foundation

/// The database host of a namespaced Mattermost fleet (`FleetSpec.database`): one more
/// network namespace running Debian's real PostgreSQL (`initdb` and `pg_ctl` in the fleet's
/// folder, no system service), one database and role per host. Its network is the fleet's
/// back end: a bridge inside the database's namespace (198.19.0.1/16, RFC 2544's range like
/// the hosts' front end) with a second veth per host (`eth1` there, 198.19.0.0 + 2 + i). It
/// has no link to the machine: only the fleet's hosts reach it, as a database on a private
/// network is reached, and the machine routes nothing (no ip_forward).
public struct DatabaseHost: Sendable, Hashable, Codable {
    /// Its namespace: the back end's (`fleetup-OWNER-TAG-back`).
    public var netns: String
    /// Its folder: `data/` (the cluster), `socket/` (the Unix socket), `postgresql.log`.
    public var root: String

    public static let address = "198.19.0.1"
    public static let port = 5432
    var dataDir: String { "\(root)/data" }
    var socketDir: String { "\(root)/socket" }
    var log: String { "\(root)/postgresql.log" }

    /// The back-end address of the fleet's host number `index` (from 0).
    static func hostAddress(_ index: Int) -> String { Namespaces.Slot.text(Namespaces.backBase + UInt32(index + 2)) }

    /// The database, role and password of one Mattermost host.
    public struct Account: Sendable, Hashable, Codable {
        public var database: String
        public var role: String
        public var password: String

        /// The DataSource Mattermost's config.json holds.
        public var url: String {
            "postgres://\(role):\(password)@\(DatabaseHost.address):\(DatabaseHost.port)/\(database)?sslmode=disable&connect_timeout=10"
        }
    }

    /// A host's account: names from the host's (`mattermost_prod01`, `mm_prod01`), a password
    /// of the fleet's.
    static func account(for host: String, password: String) -> Account {
        let safe = String(host.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
        return Account(database: "mattermost_\(safe)", role: "mm_\(safe)", password: password)
    }

    /// Debian's server programs (`/usr/lib/postgresql/VERSION/bin`, the newest), which are
    /// not on the PATH.
    static func program(_ name: String) throws -> String {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(base)/\(newest)/bin/\(name)") else {
            throw Tool.Failure(description: "\(name) not found under \(base)/*/bin; install postgresql (scripts/test installs it)")
        }
        return "\(base)/\(newest)/bin/\(name)"
    }

    /// Whether a database host can be made here: PostgreSQL's server, its `postgres` user and runuser.
    public static var available: Bool {
        (try? program("pg_ctl")) != nil && Processes.ids(of: "postgres") != nil && LocalProcess.find("runuser") != nil
            && LocalProcess.find("psql") != nil
    }

    /// Makes the cluster, starts it in `netns` listening on the back-end address only, and
    /// creates each account. `pg_ctl -w` returns once the server accepts connections.
    func start(accounts: [Account]) throws {
        let fm = FileManager.default
        for dir in [root, socketDir] { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        guard let ids = Processes.ids(of: "postgres") else { throw Tool.Failure(description: "no postgres user; install postgresql") }
        for dir in [root, socketDir] where chown(dir, ids.uid, ids.gid) != 0 {
            throw Tool.Failure(description: "cannot chown \(dir): \(String(cString: strerror(errno)))")
        }
        try asPostgres(
            try Self.program("initdb"), ["-D", dataDir, "-U", "postgres", "-A", "peer", "--auth-host=scram-sha-256", "-E", "UTF8"])
        let conf = """

            # fleetup's test database host: its back-end address only, its socket in its folder.
            listen_addresses = '\(Self.address)'
            port = \(Self.port)
            unix_socket_directories = '\(socketDir)'
            unix_socket_permissions = 0700
            fsync = off
            max_connections = 200

            """
        try appendText(conf, to: "\(dataDir)/postgresql.conf")
        try appendText("host all all \(Namespaces.Slot.text(Namespaces.backBase))/16 scram-sha-256\n", to: "\(dataDir)/pg_hba.conf")
        try asPostgres(
            try Tool.path(of: "ip"),
            [
                "netns", "exec", netns, try Tool.path(of: "runuser"), "-u", "postgres", "--", try Self.program("pg_ctl"), "-D", dataDir,
                "-l", log, "-w", "-t", "120", "start",
            ],
            direct: true)
        var sql = ""
        for a in accounts {
            sql += "CREATE ROLE \(a.role) LOGIN PASSWORD '\(a.password)';\nCREATE DATABASE \(a.database) OWNER \(a.role);\n"
        }
        try psql(sql)
    }

    /// SQL run by the `postgres` superuser over the Unix socket.
    func psql(_ sql: String) throws {
        let file = "\(root)/setup.sql"
        try LocalProcess.writeFile(file, Array(sql.utf8), mode: 0o644)
        try asPostgres(
            try Tool.path(of: "psql"),
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDir, "-U", "postgres", "-d", "postgres", "-f", file])
    }

    /// A query's rows (`psql -At`) as the `postgres` superuser, in database `database`.
    public func query(_ sql: String, database: String) throws -> String {
        try asPostgres(try Tool.path(of: "psql"), ["-X", "-A", "-t", "-h", socketDir, "-U", "postgres", "-d", database, "-c", sql])
    }

    /// Stops the server (fast: open sessions are ended), if it runs.
    func stop() {
        guard FileManager.default.fileExists(atPath: "\(dataDir)/postmaster.pid"), let pgCtl = try? Self.program("pg_ctl") else { return }
        _ = try? asPostgres(pgCtl, ["-D", dataDir, "-m", "fast", "-w", "stop"])
    }

    @discardableResult
    private func asPostgres(_ program: String, _ arguments: [String], direct: Bool = false) throws -> String {
        if direct { return try Tool.run(program, arguments) }
        return try Tool.run(try Tool.path(of: "runuser"), ["-u", "postgres", "--", program] + arguments)
    }

    private func appendText(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw Tool.Failure(description: "cannot open \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}
