import FleetLocal
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
        let argv = ["-c", "cd \"$0\" && ulimit -v \(memoryKB) && exec \"$@\"", dir, fleetup] + args
        var outcome = Outcome()
        // In a group of its own: a timeout kills everything the case started.
        let process: LocalProcess
        do {
            process = try LocalProcess("/bin/sh", argv, environment: env, output: (out, err), processGroup: true)
        } catch {
            outcome.stderr = "fuzz: cannot spawn: \(error)"
            outcome.status = -1
            return outcome
        }
        let pid = process.pid
        let watched = process.watch(until: .now + .milliseconds(Int((timeout ?? self.timeout) * 1000))) { kill(-pid, SIGKILL) }
        kill(-pid, SIGKILL)  // anything it left behind in its group
        outcome.timedOut = watched.passedDeadline
        outcome.cpu = watched.cpuSeconds
        outcome.status = watched.exit.status
        outcome.signal = watched.exit.signal
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
            && o.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        {
            return "silent-failure"
        }
        // Messages that leak Swift or Foundation internals instead of saying what was expected.
        for leak in [
            "Error Domain=", "NSCocoaErrorDomain", "The operation could not be completed", "Swift.", "Optional(",
            "DecodingError", "FleetConfig.", "FleetCore.", "FleetStore.", "FleetSSH.",
        ] where text.contains(leak) {
            return "unclear-message"
        }
        return nil
    }
}
