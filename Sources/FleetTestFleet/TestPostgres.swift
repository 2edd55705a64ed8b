import FleetLocal
import Foundation

/// A PostgreSQL server of the tests' own (issue 14): Debian's `initdb` and `pg_ctl` in a
/// folder of its own, listening on a Unix socket in that folder only (no TCP at all), for
/// as long as `with`'s body runs. Its superuser `postgres` connects without a password (the
/// socket's folder is its owner's alone); `role(_:password:)` makes login roles that need one.
public final class TestPostgres: Sendable {
    public let root: String
    public var socketDir: String { root + "/socket" }
    var dataDir: String { root + "/data" }
    /// The OS user the server runs as: `postgres` when the tests run as root (initdb refuses
    /// root), the tests' own user otherwise.
    let osUser: String?

    init(root: String, osUser: String?) {
        self.root = root
        self.osUser = osUser
    }

    /// Whether one can be started here (PostgreSQL's server programs, and as root its user).
    public static var available: Bool {
        (try? DatabaseHost.program("pg_ctl")) != nil && LocalProcess.find("psql") != nil
            && (geteuid() != 0 || (Processes.ids(of: "postgres") != nil && LocalProcess.find("runuser") != nil))
    }

    /// A server for `body`, stopped (and its folder removed) afterwards, on threads of their own.
    public static func with<T: Sendable>(_ body: (TestPostgres) async throws -> T) async throws -> T {
        let root = "/var/tmp/fleetup-pg-\(getpid())-\(UUID().uuidString.prefix(8))"
        let pg = TestPostgres(root: root, osUser: geteuid() == 0 ? "postgres" : nil)
        try await Blocking.run("test-postgres-start") { try pg.start() }
        do {
            let result = try await body(pg)
            try? await Blocking.run("test-postgres-stop") { pg.stop() }
            return result
        } catch {
            try? await Blocking.run("test-postgres-stop") { pg.stop() }
            throw error
        }
    }

    /// A store URL for `user` with `password` (over the socket), to database `database`.
    public func url(user: String, password: String, database: String) -> String {
        "postgres://\(user):\(password)@/\(database)?host=\(socketDir)"
    }

    /// Makes a login role with a password and a database it owns.
    public func role(_ name: String, password: String, database: String) throws {
        // Two statements apart: psql runs one -c's statements in one transaction, where
        // CREATE DATABASE cannot run.
        try sql("CREATE ROLE \(name) LOGIN PASSWORD '\(password)'")
        try sql("CREATE DATABASE \(database) OWNER \(name)")
    }

    /// SQL as the superuser; returns psql's rows (`-At`).
    @discardableResult
    public func sql(_ text: String, database: String = "postgres") throws -> String {
        try run(
            try Tool.path(of: "psql"),
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDir, "-U", "postgres", "-d", database, "-c", text])
    }

    /// Stops the server at once (immediate: as a crash would), keeping its files: `start` again.
    public func kill() throws {
        try run(try DatabaseHost.program("pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"])
    }

    /// Starts the server (again) and waits until it accepts connections.
    public func restart() throws {
        try run(try DatabaseHost.program("pg_ctl"), ["-D", dataDir, "-l", root + "/postgresql.log", "-w", "-t", "120", "start"])
    }

    func start() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: socketDir, withIntermediateDirectories: true)
        if let osUser {
            guard let ids = Processes.ids(of: osUser) else { throw Tool.Failure(description: "no \(osUser) user; install postgresql") }
            for dir in [root, socketDir] where chown(dir, ids.uid, ids.gid) != 0 {
                throw Tool.Failure(description: "cannot chown \(dir): \(String(cString: strerror(errno)))")
            }
        }
        chmod(root, 0o700)
        try run(try DatabaseHost.program("initdb"), ["-D", dataDir, "-U", "postgres", "--auth-local=scram-sha-256", "-E", "UTF8"])
        let conf = """

            # fleetup's test server: its Unix socket only, in its own folder.
            listen_addresses = ''
            unix_socket_directories = '\(socketDir)'
            unix_socket_permissions = 0700
            fsync = off

            """
        try append(conf, to: dataDir + "/postgresql.conf")
        // The superuser without a password (the folder is its owner's), everyone else with one.
        let hba = try String(contentsOfFile: dataDir + "/pg_hba.conf", encoding: .utf8)
        try LocalProcess.writeFile(
            dataDir + "/pg_hba.conf", Array(("local all postgres trust\n" + hba).utf8), mode: 0o600)
        if let osUser, let ids = Processes.ids(of: osUser) { chown(dataDir + "/pg_hba.conf", ids.uid, ids.gid) }
        try restart()
    }

    func stop() {
        _ = try? run(try DatabaseHost.program("pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: root)
    }

    @discardableResult
    private func run(_ program: String, _ arguments: [String]) throws -> String {
        guard let osUser else { return try Tool.run(program, arguments) }
        return try Tool.run(try Tool.path(of: "runuser"), ["-u", osUser, "--", program] + arguments)
    }

    private func append(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw Tool.Failure(description: "cannot open \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}
