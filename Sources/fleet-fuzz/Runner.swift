import Foundation

/// Runs one case of the built `fleetup` under an address-space cap (`ulimit -v`, set by a
/// `/bin/sh` that then execs it) and a wall-clock timeout, in a process group of its own,
/// stdin from /dev/null, and says how it ended.
struct Runner {
    let fleetup: String
    let memoryKB: Int
    let timeout: Double

    struct Outcome {
        var status: Int32?
        var signal: Int32?
        var timedOut = false
        var stdout = ""
        var stderr = ""
        /// User + system CPU seconds of the case.
        var cpu = 0.0
    }

    func run(_ args: [String], in dir: String, env: [String: String], timeout: Double? = nil) -> Outcome {
        let out = dir + "/.stdout", err = dir + "/.stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        let argv = ["/bin/sh", "-c", "cd \"$0\" && ulimit -v \(memoryKB) && exec \"$@\"", dir, fleetup] + args
        let envp = env.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { a in withCStrings(envp) { e in posix_spawn(&pid, "/bin/sh", &actions, &attributes, a, e) } }
        var outcome = Outcome()
        guard rc == 0 else { outcome.stderr = "fuzz: cannot spawn: \(String(cString: strerror(rc)))"; outcome.status = -1; return outcome }
        let deadline = Date().addingTimeInterval(timeout ?? self.timeout)
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if Date() > deadline && !outcome.timedOut {
                outcome.timedOut = true
                kill(-pid, SIGKILL)
            }
            usleep(2_000)
        }
        kill(-pid, SIGKILL)  // anything it left behind in its group
        outcome.cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        if status & 0x7f == 0 { outcome.status = (status >> 8) & 0xff } else { outcome.signal = status & 0x7f }
        outcome.stdout = Self.head(out, 4096)
        outcome.stderr = Self.head(err, 8192)
        return outcome
    }

    static func head(_ path: String, _ count: Int) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        return String(decoding: (try? h.read(upToCount: count)) ?? Data(), as: UTF8.self)
    }

    /// What is wrong with an outcome, or nil when it is fine: exit 0-3 with a message (or
    /// with output for 0). The class names a finding's folder.
    static func classify(_ o: Outcome) -> String? {
        if o.timedOut { return "timeout" }
        if let s = o.signal {
            switch s {
            case SIGILL, SIGTRAP: return "trap"
            case SIGSEGV, SIGBUS: return "segv"
            case SIGABRT: return o.stderr.contains("allocate") ? "memory-cap" : "abort"
            case SIGKILL: return "killed"
            default: return "signal-\(s)"
            }
        }
        let text = o.stderr
        if text.contains("Fatal error") || text.contains("Program crashed") || text.contains("Backtracing") { return "crash-message" }
        guard let status = o.status, (0...3).contains(status) || status == 130 else { return "exit-\(o.status ?? -1)" }
        if status != 0 && o.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            && o.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "silent-failure" }
        // Messages that leak Swift or Foundation internals instead of saying what was expected.
        for leak in ["Error Domain=", "NSCocoaErrorDomain", "The operation could not be completed", "Swift.", "Optional(",
                     "DecodingError", "FleetConfig.", "FleetCore.", "FleetStore.", "FleetSSH."] where text.contains(leak) {
            return "unclear-message"
        }
        return nil
    }
}

func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for p in pointers { free(p) } }
    return body(pointers)
}
