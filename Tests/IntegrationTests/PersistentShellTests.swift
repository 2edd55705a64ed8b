import FleetCore
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// The persistent shell (`SSHConfiguration.persistentShell`, what `fleetup run` uses):
/// every command of a host down one channel, each keeping what a channel of its own gives
/// it. Against real sshd.
@Suite("exec down a persistent shell over real sshd")
struct PersistentShellTests {
    /// An executor whose commands go down one persistent shell per host.
    func withShell<T: Sendable>(_ spec: FleetSpec, _ body: (TestFleet, SSHExecutor) async throws -> T) async throws -> T {
        try await withExecutor(spec, configure: { $0.persistentShell = true }, body)
    }

    /// The command line of the process that ran the command, then the command's own pid
    /// and `$$`.
    static let parent = #"ps -o args= -p $PPID | head -c 200; echo; echo "$$ $PPID""#

    @Test("every command of a host runs under one shell: the same parent, the fleetup driver; each its own process")
    func oneShell() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            var parents = Set<String>(), pids = Set<String>(), dollars = Set<String>()
            for _ in 0..<5 {
                let r = try await executor.run(RemoteCommand(Self.parent), on: host)
                #expect(r.exitStatus == 0)
                let lines = r.stdout.text.split(separator: "\n").map(String.init)
                #expect(lines.count == 2, "\(r.stdout.text)")
                parents.insert(lines.first ?? "")
                let ids = (lines.last ?? "").split(separator: " ").map(String.init)
                #expect(ids.count == 2, "\(ids)")
                pids.insert(ids.first ?? "")
                dollars.insert(ids.last ?? "")
            }
            #expect(parents.count == 1)
            #expect(parents.first?.contains("fleetup-shell") == true, "\(parents)")
            // Each command's `$$` is its own; the parent is the same shell every time.
            #expect(pids.count == 5)
            #expect(dollars.count == 1)
            // bash still runs the last simple command in place: no extra fork.
            let r = try await executor.run(RemoteCommand("ps -o comm= -p $$"), on: host)
            #expect(r.stdout.text == "ps\n")
        }
    }

    @Test("a command that names no $$ runs in a subshell of the shell: its own process and process group, the shell its parent")
    func subshell() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            // Names PPID: a bash of its own, whose parent is the shell.
            let shell = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
                .trimmingCharacters(in: .whitespacesAndNewlines)
            var pids = Set<String>()
            for _ in 0..<3 {
                let r = try await executor.run(RemoteCommand("p=$BASHPID; echo $p $(ps -o ppid=,pgid= -p $p)"), on: host)
                let f = r.stdout.text.split(whereSeparator: \.isWhitespace).map(String.init)
                #expect(f.count == 3, "\(r.stdout.text)")
                #expect(f.dropFirst().first == shell, "its parent is the shell")
                #expect(f.last == f.first, "its own process group")
                pids.insert(f.first ?? "")
            }
            #expect(pids.count == 3)
        }
    }

    @Test("stdout and stderr stay separate and whole; exit codes 0, 3, 127; no trailing newline kept apart")
    func streams() async throws {
        try await withShell(FleetSpec(count: 2)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let mixed = try await executor.run(RemoteCommand("echo out1; echo err1 >&2; echo out2; printf err2 >&2"), on: host)
            #expect(mixed.stdout.text == "out1\nout2\n")
            #expect(mixed.stderr.text == "err1\nerr2")
            #expect(mixed.exitStatus == 0)
            let three = try await executor.run(RemoteCommand("printf partial; exit 3"), on: host)
            #expect(three.exitStatus == 3)
            #expect(three.stdout.text == "partial")
            #expect(three.stderr.text == "")
            let missing = try await executor.run(RemoteCommand("no-such-command-here"), on: host)
            #expect(missing.exitStatus == 127)
            #expect(missing.stderr.text.contains("no-such-command-here"))
            // Several lines, quotes, a here-document, unicode: the text arrives as written.
            let text = "héllo wörld ✓ 日本語 🚀"
            let script = "x='a  b'\nprintf '%s\\n' \"$x\"\ncat <<'END'\n\(text)\n  indented \\ line\nEND\nread -r line || echo stdin-empty"
            let r = try await executor.run(RemoteCommand(script), on: host)
            #expect(r.stdout.text == "a  b\n\(text)\n  indented \\ line\nstdin-empty\n")
            // Each host has its own shell.
            let other = try await executor.run(RemoteCommand("echo $FLEET_HOST"), on: fleet.inventoryHosts[1])
            #expect(other.stdout.text == fleet.inventoryHosts[1].name + "\n")
        }
    }

    @Test("5 MB of stdout and 5 MB of stderr are drained and counted, then the shell goes on")
    func bigOutput() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let script =
                "i=0; while [ $i -lt 5 ]; do head -c 1000000 /dev/zero | tr '\\0' o; "
                + "head -c 1000000 /dev/zero | tr '\\0' e >&2; i=$((i+1)); done; printf END; printf END2 >&2"
            let result = try await executor.run(RemoteCommand(script), on: host)
            #expect(result.succeeded)
            #expect(result.stdout.totalBytes == 5_000_003)
            #expect(result.stderr.totalBytes == 5_000_004)
            #expect(result.stdout.text.hasSuffix("oooEND"))
            #expect(result.stderr.text.hasSuffix("eeeEND2"))
            #expect(!result.stdout.text.contains("e"))
            let after = try await executor.run(RemoteCommand("echo next"), on: host)
            #expect(after.stdout.text == "next\n")
            #expect(after.stderr.totalBytes == 0)
        }
    }

    @Test("a command killed by a signal: no success, bash's 128+N, and the shell goes on")
    func killedBySignal() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let result = try await executor.run(RemoteCommand("kill -9 $$"), on: host)
            #expect(result.exitStatus == 137)
            #expect(!result.succeeded)
            let after = try await executor.run(RemoteCommand("echo alive"), on: host)
            #expect(after.stdout.text == "alive\n")
        }
    }

    @Test("a command that kills the shell itself fails with that said, and the next command gets a new shell")
    func killsTheShell() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let before = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
            let error = await remoteError { _ = try await executor.run(RemoteCommand("kill -9 $PPID"), on: host) }
            #expect(error?.kind == .channelFailed)
            #expect(error?.message.contains("the persistent shell ended while `kill -9 $PPID` ran") == true, "\(String(describing: error))")
            let after = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
            #expect(!after.isEmpty)
            #expect(after != before)
        }
    }

    @Test("a timeout ends the command's process group, and the same shell runs the next command")
    func timeout() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let before = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
            let sleeper = Sleeper()
            // A child in the background of the command: the group's kill ends it too.
            let result = try await executor.run(
                RemoteCommand("sleep 600 \(sleeper.marker)0 & \(sleeper.command)", timeout: .seconds(2)), on: host)
            #expect(result.timedOut)
            #expect(result.exitStatus == nil)
            let check = try await executor.run(
                RemoteCommand(sleeper.check), on: host)
            #expect(check.stdout.text == "stopped\n")
            let after = try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text
            #expect(after == before)
        }
    }

    @Test("a cancelled task interrupts its command and kills it on the host")
    func cancellation() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in try await expectCancellationKills(fleet, executor) }
    }

    @Test("output a background process writes between commands reaches neither of them")
    func strayOutput() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let home = fleet.hosts[0].root + "/home"
            let first = try await executor.run(
                RemoteCommand(
                    "(while [ ! -e $HOME/go ]; do sleep 0.02; done; echo stray; echo stray >&2; touch $HOME/written) & echo first"),
                on: host)
            #expect(first.stdout.text == "first\n")
            FileManager.default.createFile(atPath: home + "/go", contents: Data())
            #expect(try await eventually { FileManager.default.fileExists(atPath: home + "/written") })
            let second = try await executor.run(RemoteCommand("echo second"), on: host)
            #expect(second.stdout.text == "second\n")
            #expect(second.stderr.text == "")
        }
    }

    @Test("commands at once on one host: one goes down the shell, the others get channels; all answer")
    func concurrent() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let outputs = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<6 { group.addTask { try await executor.run(RemoteCommand("sleep 0.1; echo \(i)"), on: host).stdout.text } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(outputs == Set((0..<6).map { "\($0)\n" }))
        }
    }

    @Test("a login shell that is not bash: no shell, every command gets a channel of its own and works")
    func notBash() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            // sshd runs every command through dash, as a host whose login shell is /bin/sh would.
            try await Self.reconfigure(fleet.hosts[0]) { $0 + "\nForceCommand /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n" }
            let inventoryHost = fleet.inventoryHosts[0]
            for i in 0..<3 {
                let r = try await executor.run(
                    RemoteCommand("echo \(i) $BASH_VERSION; ps -o args= -p $PPID | head -c 200"), on: inventoryHost)
                #expect(r.stdout.text.hasPrefix("\(i)\n"), "\(r.stdout.text)")
                #expect(!r.stdout.text.contains("fleetup-shell"))
            }
        }
    }

    @Test("in a UTF-8 locale a text of multibyte characters is read whole (bytes, not characters), and so is the next one")
    func utf8Locale() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            // Sessions get LANG=C.UTF-8, as a Debian server's do: the driver's bash counts
            // characters unless told to count bytes.
            try await Self.reconfigure(fleet.hosts[0]) { $0.replacingOccurrences(of: "\nSetEnv ", with: "\nSetEnv LANG=C.UTF-8 ") }
            let host = fleet.inventoryHosts[0]
            let text = "héllo wörld ✓ 日本語 🚀"
            for i in 0..<3 {
                // A timeout: a driver that miscounts waits for bytes that never come.
                let command = RemoteCommand("x='é'; echo ${#x} \(i); printf '%s\\n' '\(text)'", timeout: .seconds(20))
                let r = try await executor.run(command, on: host)
                #expect(r.exitStatus == 0, "\(r.stderr.text)")
                #expect(r.stdout.text == "1 \(i)\n\(text)\n", "the command ran in UTF-8 and its text arrived whole")
            }
            let parent = try await executor.run(RemoteCommand(Self.parent), on: host)
            #expect(parent.stdout.text.contains("fleetup-shell"), "the commands went down the shell")
        }
    }

    @Test("after keepalives answered while idle, a command's two streams are still read to their ends")
    func afterKeepalives() async throws {
        try await withExecutor(
            FleetSpec(count: 1),
            configure: {
                $0.persistentShell = true
                $0.serverAliveInterval = .seconds(1)
            }
        ) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let first = try await executor.run(RemoteCommand("echo one; echo two >&2"), on: host)
            #expect(first.stdout.text == "one\n" && first.stderr.text == "two\n")
            // Idle through a few keepalives: sshd answers each with a one-byte packet that
            // libssh2 1.10 keeps in its queue, where a scan for queued channel data stops
            // (libssh2_poll_channel_read answers "packet too small"). A reader that trusted
            // that scan never read stderr again, and the command below timed out.
            try await Task.sleep(for: .seconds(2.5))
            for i in 0..<3 {
                let r = try await executor.run(RemoteCommand("echo out\(i); echo err\(i) >&2", timeout: .seconds(20)), on: host)
                #expect(r.exitStatus == 0 && !r.timedOut, "\(r.stderr.text)")
                #expect(r.stdout.text == "out\(i)\n" && r.stderr.text == "err\(i)\n")
            }
            let parent = try await executor.run(RemoteCommand(Self.parent), on: host)
            #expect(parent.stdout.text.contains("fleetup-shell"), "the commands went down the shell")
        }
    }

    /// Rewrites a host's sshd_config and has sshd read it again (SIGHUP), waiting for the log
    /// line that says it listens again.
    static func reconfigure(_ host: FleetHost, _ edit: (String) -> String) async throws {
        let config = try String(contentsOfFile: host.sshdConfig, encoding: .utf8)
        let edited = edit(config)
        #expect(edited != config, "the edit changed nothing")
        try edited.write(toFile: host.sshdConfig, atomically: true, encoding: .utf8)
        let listening = {
            (try? String(contentsOfFile: host.sshdLog, encoding: .utf8))?.components(separatedBy: "Server listening").count ?? 0
        }
        let before = listening()
        let pid = try #require(
            Int32(String(contentsOfFile: host.sshdPidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGHUP)
        #expect(try await eventually { listening() > before })
    }
}
