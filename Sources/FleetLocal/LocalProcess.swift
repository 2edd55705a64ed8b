import Foundation

/// Runs a local program with posix_spawn and waitpid, its output going to files (not
/// pipes: a daemon it starts must not keep a pipe the caller waits on open), and no other
/// descriptor of the caller's reaches it. The one spawn
/// helper: ssh-agent/ssh-add, the local commands of `LocalProcess.result(of:)`, the test
/// fleet's sshd and ssh-keygen, and scripts/fuzz's cases.
public final class LocalProcess: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public let pid: pid_t
    private let label: String
    private let outPath: String
    private let errPath: String
    /// False when the caller named the output files: they stay after the exit.
    private let ownsOutput: Bool

    /// Starts `executable` (an absolute path); stdin is /dev/null, or the file `stdin`.
    /// `output` names the files stdout and stderr go to (the caller's, kept and never read
    /// whole here; by default temporary ones, read and removed by `waitForExit`); with
    /// `mergeErrors` stderr goes where stdout goes, in the order written; `processGroup`
    /// starts it in a group of its own, so `kill(-pid, …)` reaches everything it started.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        output: (stdout: String, stderr: String)? = nil, processGroup: Bool = false, stdin: String? = nil,
        mergeErrors: Bool = false
    ) throws {
        label = ([executable] + arguments).joined(separator: " ")
        let base = NSTemporaryDirectory() + "fleetup-proc-\(getpid())-\(UUID().uuidString.prefix(8))"
        outPath = output?.stdout ?? base + ".out"
        errPath = output?.stderr ?? base + ".err"
        ownsOutput = output == nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if mergeErrors {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        // Nothing else of this process reaches the child: a pipe, socket or file that some
        // other thread opened without O_CLOEXEC would otherwise live on in a daemon the
        // child starts (a reader waiting for that pipe's end never sees it).
        Self.closeFrom3(&actions)
        // The child starts with no blocked and no ignored signals: the spawning thread may
        // be one of Dispatch's, which block signals, and a daemon inheriting that mask
        // (the test fleet's app) would shrug off SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if processGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        var rc: Int32 = 0
        // "Text file busy" passes once the process that holds a write descriptor (a fork of
        // some other thread, about to exec) lets go: try a few times before giving up.
        for attempt in 0..<5 {
            rc = withCStrings([executable] + arguments) { argv in
                withCStrings(env) { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
            }
            guard rc == ETXTBSY else { break }
            usleep(useconds_t(10_000 << attempt))
        }
        guard rc == 0 else { throw Failure(description: "\(label): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time:
    /// Swift's Glibc module does not declare it. Without it (an older libc) the child keeps
    /// whatever descriptors lack O_CLOEXEC, as before.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        // nil: RTLD_DEFAULT, every object already loaded.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(
            symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
        _ = addCloseFrom?(&actions, 3)
    }

    /// How a finished process ended, with everything it wrote.
    public struct Exit: Sendable {
        /// The exit status, or nil when a signal ended the process.
        public var status: Int32?
        public var signal: Int32?
        public var stdout: String
        public var stderr: String
    }

    /// Waits for the process to end and collects its output, whatever the status (none
    /// when the caller named the output files: they are the caller's to read).
    public func waitForExit() -> Exit {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard ownsOutput else { return Self.exit(status, stdout: "", stderr: "") }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        unlink(outPath)
        unlink(errPath)
        return Self.exit(status, stdout: out, stderr: err)
    }

    /// How a watched process ended: its exit (output as `waitForExit` gives it), whether
    /// the deadline passed first, and the CPU seconds (user + system) it used.
    public struct Watched: Sendable {
        public var exit: Exit
        public var passedDeadline: Bool
        public var cpuSeconds: Double
    }

    /// Waits for the end while watching a deadline (polling every 2 ms, for a program that
    /// must not hang its caller): once `deadline` passes, `atDeadline` runs once (it kills
    /// the process or its group), and the wait goes on until the process is gone.
    public func watch(until deadline: ContinuousClock.Instant, atDeadline: () -> Void) -> Watched {
        var status: Int32 = 0
        var usage = rusage()
        var passed = false
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid || (r < 0 && errno != EINTR) { break }
            if !passed && ContinuousClock.now > deadline {
                passed = true
                atDeadline()
            }
            usleep(2_000)
        }
        let cpu =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        var exit = Self.exit(status, stdout: "", stderr: "")
        if ownsOutput {
            exit.stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            exit.stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            unlink(outPath)
            unlink(errPath)
        }
        return Watched(exit: exit, passedDeadline: passed, cpuSeconds: cpu)
    }

    private static func exit(_ status: Int32, stdout: String, stderr: String) -> Exit {
        let exited = status & 0x7f == 0
        return Exit(
            status: exited ? (status >> 8) & 0xff : nil, signal: exited ? nil : status & 0x7f,
            stdout: stdout, stderr: stderr)
    }

    /// Waits for the exit; returns stdout, or throws with stderr when the status is not 0.
    @discardableResult
    public func wait() throws -> String {
        let exit = waitForExit()
        guard exit.status == 0 else {
            let how = exit.status.map { "exit \($0)" } ?? "signal \(exit.signal ?? 0)"
            throw Failure(description: "\(label): \(how): \(exit.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return exit.stdout
    }

    /// Runs a program to completion.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String],
        environment: [String: String]? = nil
    ) throws -> String {
        try LocalProcess(executable, arguments, environment: environment).wait()
    }

    /// Writes a file (replacing it) through a close-on-exec descriptor. A program written
    /// with a plain descriptor can fail to start with "text file busy": a process that
    /// another thread forks meanwhile inherits the write descriptor until it execs.
    public static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
        // open's mode is filtered by the umask; the caller asked for exactly this one.
        fchmod(fd, mode)
    }

    /// Finds a program on PATH or in the usual system folders (sshd lives in /usr/sbin).
    public static func find(_ name: String) -> String? {
        let dirs =
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return body(pointers)
}
