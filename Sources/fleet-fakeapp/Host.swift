// The host's side of the fake app: its logs, its control files, detaching a server.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Appends one whole line with a single write on an O_APPEND descriptor, so concurrent
/// writers (two SSH sessions, a server and a `systemctl`) never interleave within a line
/// and never lose one. The log's folder is made if missing.
func appendLine(_ path: String, _ line: String) {
    if let slash = path.lastIndex(of: "/") { mkdir(String(path[..<slash]), 0o755) }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        let bytes = Array("fleet-fakeapp: cannot append to \(path): \(String(cString: strerror(errno)))\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(1)
    }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// Why the control file `name` makes the host misbehave at `version`, or nil when it does
/// not: an empty file always applies, one holding a version only at that version (a
/// leading `v` on either side is ignored: `v3.1.2` is `3.1.2`).
func control(_ name: String, appliesAt version: String) -> String? {
    guard let text = readFile("\(hostRoot())/control/\(name)") else { return nil }
    let wanted = text.trimmingNewlines()
    if wanted.isEmpty { return "control/\(name) is present" }
    func bare(_ v: String) -> Substring { v.hasPrefix("v") ? v.dropFirst() : Substring(v) }
    return bare(wanted) == bare(version) ? "control/\(name) names \(wanted)" : nil
}

/// Leaves the caller's stdio (sshd waits for every holder of the session's pipes) and says
/// "ready" to the `start` that forked this server.
func detach(readyFd: Int32) {
    let devnull = open("/dev/null", O_RDWR)
    dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2)
    var ready = UInt8(ascii: "R")
    _ = write(readyFd, &ready, 1)
    close(readyFd)
}

/// A unit without a port (Flow's sidekiq, streaming): a process that runs until stopped,
/// so `is-active` and the pid file tell a real restart from none.
func work(_ unit: Unit, readyFd: Int32) -> Never {
    signal(SIGHUP) { _ in reloadRequested = 1 }
    if let log = unit.log { appendLine(log, "info: \(unit.name) \(installedVersion(unit.install)) started") }
    detach(readyFd: readyFd)
    while true { pause() }
}
