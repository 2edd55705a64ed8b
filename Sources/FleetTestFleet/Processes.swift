import Foundation

/// Reading and ending local processes through /proc (Linux), for `TestFleet.down`.
enum Processes {
    /// The uid and gid of user `name`, or nil when there is none. `getpwnam_r`, not
    /// `getpwnam`: the latter's record is one static buffer for the whole process, which
    /// another thread's lookup (parallel tests) can overwrite between the call and the read
    /// (a test's socket folder was once chowned to another user that way).
    static func ids(of name: String) -> (uid: uid_t, gid: gid_t)? {
        var record = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &record, &buffer, buffer.count, &found) == 0, found != nil else { return nil }
        return (record.pw_uid, record.pw_gid)
    }

    static func pid(inFile path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The process's arguments joined by spaces ("" when it is gone).
    static func commandLine(_ pid: pid_t) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Direct children of `pid` (sshd forks one per connection).
    static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { parent(of: $0) == pid }
    }

    /// Every process whose command line contains `text` (a fleet's own folder).
    static func all(commandLineContaining text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { commandLine($0).contains(text) }
    }

    /// Children, grandchildren and so on (sshd's per-connection monitor forks the session
    /// process, which forks the user's command).
    static func descendants(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var parents: [pid_t: [pid_t]] = [:]
        for p in entries.compactMap({ pid_t($0) }) {
            if let parent = parent(of: p) { parents[parent, default: []].append(p) }
        }
        var out: [pid_t] = []
        var stack = parents[pid] ?? []
        while let p = stack.popLast() {
            out.append(p)
            stack.append(contentsOf: parents[p] ?? [])
        }
        return out
    }

    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// Alive and not a zombie (an orphan stays a zombie until init reaps it).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// SIGTERM to each, then waits up to 5 s for all to go, then SIGKILL to what is left.
    static func terminate(_ pids: [pid_t]) {
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while pids.contains(where: isAlive) && Date() < deadline {
            usleep(10_000)
        }
        for pid in pids where isAlive(pid) { kill(pid, SIGKILL) }
    }
}
