// The fake showcase app installed on every host of the local test fleet.
//
// It has the interface of the apps fleetup upgrades (design.md §1, §8): a version command,
// start/stop through a `systemctl` look-alike, and an HTTP health endpoint on its own
// loopback port that answers with the running version. Files in the host's control folder
// make it misbehave on purpose: `fail-health` (health answers 503), `fail-start` (start
// exits 1) and `fail-migrate` (Flow's db:migrate exits 1), each either empty (always) or
// holding a version (only while that version runs), so halt and rollback paths can be
// tested against real hosts. What it does is logged on the host, one whole line per
// action, so tests can prove what ran, how often and in which order.
//
// Glibc only (no Foundation): it starts in a few milliseconds and stays small, since a
// fleet may run hundreds of these.
//
//   fleet-fakeapp version INSTALL_DIR                  prints "Version: X.Y.Z"
//   fleet-fakeapp systemctl ACTION UNIT                 ACTION: start stop restart reload status is-active
//   fleet-fakeapp bundle install | exec rails db:migrate | exec rails assets:precompile | exec flowctl cache clear
//   fleet-fakeapp yarn install [--frozen-lockfile]      (both in a Flow checkout: the current folder)
//
// `start` forks a server that binds its port before the command returns, so a caller never
// has to poll for readiness; `reload` (SIGHUP) makes the running server re-read its VERSION.
// A unit without a port is a worker: a process that runs until stopped.
//
// A unit is described by `$FLEET_HOST_ROOT/units/UNIT` (lines `install=DIR`, `port=N`,
// `log=FILE`: the app log a start appends to, `user=NAME`: systemd's User=, the server runs
// as that user when root starts it); its pid file is `$FLEET_HOST_ROOT/run/UNIT.pid`;
// control files live in `$FLEET_HOST_ROOT/control/`; `systemctl` appends `ACTION UNIT` to
// `$FLEET_HOST_ROOT/log/services.log` (not when FLEET_QUIET is set: the fleet's own start-up),
// `bundle` and `yarn` append `ACTION VERSION` to `$FLEET_HOST_ROOT/log/flow.log`.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A log line to write, with ` failed` appended, if the action fails (`fail` writes it).
nonisolated(unsafe) var lineIfFailing: (path: String, line: String)?

func fail(_ message: String, code: Int32 = 1) -> Never {
    if let pending = lineIfFailing { appendLine(pending.path, pending.line + " failed") }
    let bytes = Array("fleet-fakeapp: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

func readFile(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

func writeFile(_ path: String, _ text: String) {
    guard let f = fopen(path, "w") else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
    fputs(text, f)
    fclose(f)
}

func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

func hostRoot() -> String {
    guard let r = getenv("FLEET_HOST_ROOT") else { fail("FLEET_HOST_ROOT is not set (run me on a fleet host)") }
    return String(cString: r)
}

func installedVersion(_ installDir: String) -> String {
    guard let v = readFile(installDir + "/VERSION") else { fail("no VERSION file in \(installDir)") }
    return v.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
}

struct Unit {
    var name: String
    var install: String
    var port: Int?
    var log: String?
    /// systemd's `User=`: the server runs as this user when started by root.
    var user: String?

    init(_ name: String) {
        guard let text = readFile("\(hostRoot())/units/\(name)") else {
            fail("Unit \(name).service could not be found.", code: 5)
        }
        self.name = name
        var install = ""
        var port: Int?
        var log: String?
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if parts[0] == "install" { install = parts[1] }
            if parts[0] == "port" { port = Int(parts[1]) }
            if parts[0] == "log" { log = parts[1] }
            if parts[0] == "user" { user = parts[1] }
        }
        self.install = install
        self.port = port
        self.log = log
    }

    var pidFile: String { "\(hostRoot())/run/\(name).pid" }

    /// The pid of the running server, if its pid file names a live process.
    var runningPid: pid_t? {
        guard let text = readFile(pidFile), let pid = pid_t(text.trimmingNewlines()), pid > 0 else { return nil }
        return isAlive(pid) ? pid : nil
    }
}

/// True while `pid` runs. A finished server whose parent (an earlier `start`) has exited
/// stays a zombie until init reaps it, and `kill(pid, 0)` still succeeds on a zombie. An
/// ordinary user may not signal root's server (EPERM) but sees it run, as `systemctl
/// is-active` does for any user.
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
    return state != "Z" && state != "X"
}

extension String {
    func trimmingNewlines() -> String {
        String(self.filter { !$0.isNewline && $0 != " " })
    }
}

// MARK: - systemctl

func start(_ unit: Unit) {
    if unit.runningPid != nil { return }
    if let why = control("fail-start", appliesAt: installedVersion(unit.install)) {
        fail("Job for \(unit.name).service failed: start refused (\(why))")
    }
    // Fork and exec `serve`, then wait until the child says it is listening (or failed).
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { fail("pipe: \(String(cString: strerror(errno)))") }
    let pid = fork()
    if pid < 0 { fail("fork: \(String(cString: strerror(errno)))") }
    if pid == 0 {
        close(fds[0])
        setsid()
        if let user = unit.user, geteuid() == 0 { becomeUser(user) }
        serve(unit, readyFd: fds[1])
    }
    close(fds[1])
    var byte: UInt8 = 0
    let n = read(fds[0], &byte, 1)
    close(fds[0])
    guard n == 1, byte == UInt8(ascii: "R") else {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        fail("Job for \(unit.name).service failed: the server exited during start-up")
    }
    writeFile(unit.pidFile, "\(pid)\n")
}

/// Drops root for the unit's user, as systemd does for `User=` (its groups only).
func becomeUser(_ name: String) {
    guard let pw = getpwnam(name) else { fail("Job failed: the unit's user \(name) does not exist") }
    let uid = pw.pointee.pw_uid, gid = pw.pointee.pw_gid
    guard setgroups(0, nil) == 0, setgid(gid) == 0, setuid(uid) == 0 else {
        fail("Job failed: cannot run as \(name): \(String(cString: strerror(errno)))")
    }
}

func stop(_ unit: Unit) {
    guard let pid = unit.runningPid else { unlink(unit.pidFile); return }
    kill(pid, SIGTERM)
    // A real service manager waits for the main process to go; so do we (bounded: 5 s).
    var waited = 0
    while isAlive(pid) && waited < 500 {
        var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        nanosleep(&ts, nil)
        waited += 1
    }
    if isAlive(pid) { kill(pid, SIGKILL) }
    unlink(unit.pidFile)
}

func systemctl(_ args: [String]) -> Never {
    guard args.count >= 2 else { fail("usage: systemctl ACTION UNIT", code: 2) }
    let action = args[0]
    let unit = Unit(args[1].replacingSuffix(".service"))
    let logged = ["start", "stop", "restart", "reload"].contains(action) && getenv("FLEET_QUIET") == nil
    if logged { lineIfFailing = ("\(hostRoot())/log/services.log", "\(action) \(unit.name)") }
    switch action {
    case "start": start(unit)
    case "stop": stop(unit)
    case "restart": stop(unit); start(unit)
    case "reload":
        // The server re-reads its VERSION on SIGHUP: a zero-downtime reload.
        guard let pid = unit.runningPid else { fail("\(unit.name).service is not active, cannot reload.") }
        kill(pid, SIGHUP)
    case "status", "is-active":
        if let pid = unit.runningPid {
            print(action == "is-active" ? "active" : "\(unit.name).service: active (running), pid \(pid)")
            exit(0)
        }
        print(action == "is-active" ? "inactive" : "\(unit.name).service: inactive (dead)")
        exit(3)
    default:
        fail("unknown action \(action); expected start, stop, restart, reload, status or is-active", code: 2)
    }
    if logged { appendLine("\(hostRoot())/log/services.log", "\(action) \(unit.name)") }
    exit(0)
}

extension String {
    func replacingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

// MARK: - serve

nonisolated(unsafe) var reloadRequested: sig_atomic_t = 0

func serve(_ unit: Unit, readyFd: Int32) -> Never {
    // A server must answer SIGTERM whatever mask its starter had.
    var none = sigset_t()
    sigemptyset(&none)
    sigprocmask(SIG_SETMASK, &none, nil)
    // The starter logs its own failure; this process's would be a second line.
    lineIfFailing = nil
    var version = installedVersion(unit.install)
    migrateDatabase(unit, version: version)
    guard let port = unit.port else { work(unit, readyFd: readyFd) }
    let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0, listen(sock, 64) == 0 else {
        fail("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
    }
    signal(SIGHUP) { _ in reloadRequested = 1 }
    signal(SIGPIPE, SIG_IGN)
    if let log = unit.log { appendLine(log, "info: \(unit.name) \(version) started, listening on 127.0.0.1:\(port)") }
    detach(readyFd: readyFd)
    while true {
        let client = accept(sock, nil, nil)
        if reloadRequested != 0 {
            reloadRequested = 0
            version = installedVersion(unit.install)
        }
        if client < 0 { continue }
        answer(client, version: version, unit: unit)
        close(client)
    }
}

/// Reads the request head (up to the blank line, 16 KB at most): answering after a partial
/// read and closing with unread bytes makes the kernel send a reset, which can destroy the
/// answer before the client reads it. The read ends when the head has come; the 30 s bound
/// only stops a client that never sends (a request through an SSH tunnel on a busy machine
/// took more than the 2 s this once was, and got an empty answer).
func readRequest(_ client: Int32) -> String? {
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var request = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    let end: [UInt8] = [13, 10, 13, 10]
    while request.count < 16 * 1024 {
        let n = read(client, &buf, buf.count)
        if n <= 0 { break }
        request.append(contentsOf: buf[0..<n])
        if request.count >= 4, request.suffix(from: max(0, request.count - n - 3)).firstRange(of: end) != nil { break }
    }
    return request.isEmpty ? nil : String(decoding: request, as: UTF8.self)
}

/// Sends the answer, then half-closes and drains until the client closes (bounded by the
/// receive timeout), so the close never resets the connection.
func finish(_ client: Int32, _ response: String) {
    var bytes = Array(response.utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(client, $0.baseAddress! + sent, $0.count - sent) }
        if n <= 0 { break }
        sent += n
    }
    shutdown(client, Int32(SHUT_WR))
    var sink = [UInt8](repeating: 0, count: 1024)
    while read(client, &sink, sink.count) > 0 {}
}

func answer(_ client: Int32, version: String, unit: Unit) {
    guard let request = readRequest(client) else { return }
    // The request is in: the drain after the answer waits 2 s at most, so one client that
    // keeps its end open cannot hold the (one-at-a-time) server for long.
    var drain = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &drain, socklen_t(MemoryLayout<timeval>.size))
    let path = request.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
    let status: String
    let body: String
    switch path {
    case "/api/v4/system/ping", "/health":
        let failing = control("fail-health", appliesAt: version)
        let unhealthy = failing != nil
        if let failing, let log = unit.log { appendLine(log, "error: \(unit.name) \(version) health check failing (\(failing))") }
        status = unhealthy ? "503 Service Unavailable" : "200 OK"
        let state = unhealthy ? "UNHEALTHY" : "OK"
        body = "{\"status\":\"\(state)\",\"version\":\"\(version)\",\"unit\":\"\(unit.name)\"}\n"
    case "/version":
        status = "200 OK"
        body = version + "\n"
    default:
        status = "404 Not Found"
        body = "not found\n"
    }
    let response =
        "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\n"
        + "Content-Length: \(body.utf8.count)\r\nX-App-Version: \(version)\r\nConnection: close\r\n\r\n" + body
    finish(client, response)
}

// MARK: - main

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else {
    fail("usage: fleet-fakeapp version INSTALL_DIR | systemctl ACTION UNIT | bundle ... | yarn ...", code: 2)
}
switch command {
case "version":
    guard args.count >= 2 else { fail("usage: fleet-fakeapp version INSTALL_DIR", code: 2) }
    let v = installedVersion(args[1])
    print("Version: \(v)")
    print("Build Number: \(v)")
case "systemctl":
    systemctl(Array(args.dropFirst()))
case "bundle":
    bundle(Array(args.dropFirst()))
case "yarn":
    yarn(Array(args.dropFirst()))
default:
    fail("unknown command \(command); expected version, systemctl, bundle or yarn", code: 2)
}
