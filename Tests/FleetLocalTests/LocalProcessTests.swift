import FleetLocal
import Foundation
import Testing

/// The one spawn helper: exits and signals as they happened, the caller's output files,
/// and a watched deadline that reaches the whole process group (scripts/fuzz's timeouts).
@Suite("local processes")
struct LocalProcessTests {
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "localprocess-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("an exit status and the output, or the signal that ended it")
    func exits() throws {
        let ok = try LocalProcess("/bin/sh", ["-c", "echo out; echo err >&2; exit 7"]).waitForExit()
        #expect(ok.status == 7 && ok.signal == nil)
        #expect(ok.stdout == "out\n" && ok.stderr == "err\n")
        let killed = try LocalProcess("/bin/sh", ["-c", "kill -9 $$"]).waitForExit()
        #expect(killed.status == nil && killed.signal == SIGKILL)
    }

    @Test("output files the caller names are written and kept, not read")
    func callerFiles() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/o", err = dir + "/e"
        let exit = try LocalProcess("/bin/sh", ["-c", "echo hello; echo oops >&2"], output: (out, err)).waitForExit()
        #expect(exit.status == 0 && exit.stdout.isEmpty)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "hello\n")
        #expect(try String(contentsOfFile: err, encoding: .utf8) == "oops\n")
    }

    @Test("a child gets stdin, stdout and stderr only: an inherited pipe end would keep its reader waiting forever")
    func noInheritedDescriptors() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)  // no O_CLOEXEC, as a careless library would open it
        defer { close(ends[0]); close(ends[1]) }
        // The shell lists its own descriptors; a leaked one is the pipe's write end.
        let exit = try LocalProcess("/bin/sh", ["-c", "ls /proc/$$/fd"]).waitForExit()
        #expect(exit.status == 0)
        let fds = Set(exit.stdout.split(separator: "\n").compactMap { Int32($0) })
        #expect(fds.contains(0) && fds.contains(1) && fds.contains(2))
        #expect(!fds.contains(ends[0]) && !fds.contains(ends[1]), "inherited: \(fds.sorted())")
        #expect(fds.filter { $0 > 2 }.count <= 1, "open in the child: \(fds.sorted())")  // ls's own /proc folder, at most
    }

    @Test("a process that ends before its deadline: the deadline's action never runs")
    func beforeDeadline() throws {
        let p = try LocalProcess("/bin/sh", ["-c", "exit 3"])
        var acted = false
        // A day: the process ends long before, however busy the machine.
        let watched = p.watch(until: .now + .seconds(86_400)) { acted = true }
        #expect(!acted && !watched.passedDeadline)
        #expect(watched.exit.status == 3)
    }

    @Test("past its deadline the action kills the whole group: the child it started goes too")
    func pastDeadline() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The shell starts a sleeping child and records its pid, then waits forever.
        let script = "sleep 1000 & echo $! > \(dir)/child; wait"
        let p = try LocalProcess("/bin/sh", ["-c", script], processGroup: true)
        // The deadline is already past: the action runs at the first look; the pid file
        // is the event that the child exists before the group is killed.
        let pid = p.pid
        let watched = p.watch(until: .now) {
            while (try? String(contentsOfFile: dir + "/child", encoding: .utf8))?.hasSuffix("\n") != true { usleep(1_000) }
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)  // were the group broken, the shell still ends and the test fails below, never hangs
        }
        #expect(watched.passedDeadline)
        #expect(watched.exit.signal == SIGKILL)
        let child = try #require(
            pid_t(String(contentsOfFile: dir + "/child", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(child, SIGKILL) }
        // The child was in the group: it goes (a SIGKILL is delivered when it next runs;
        // a zombie awaiting init counts as gone). The bound only guards a broken group.
        func gone() -> Bool {
            guard kill(child, 0) == 0 else { return true }
            let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        let bound = ContinuousClock.now + .seconds(60)
        while !gone() && ContinuousClock.now < bound { usleep(1_000) }
        #expect(gone())
    }
}
