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

    /// The shell's pid: the parent of a command that names PPID (a bash of its own).
    static func shellPid(_ executor: SSHExecutor, _ host: FleetCore.Host) async throws -> String {
        try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `ps` last on the command's own pid: pid, parent, process group, and what runs there.
    static let psLast = "ps -o pid=,ppid=,pgid=,comm= -p $BASHPID"

    @Test("a text with no ) is the body of its subshell: its last command runs in the subshell's own process and group, no second fork")
    func body() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let shell = try await Self.shellPid(executor, host)
            let fields = { (r: CommandResult) in r.stdout.text.split(whereSeparator: \.isWhitespace).map(String.init) }
            let body = fields(try await executor.run(RemoteCommand("cd / && true\n" + Self.psLast), on: host))
            #expect(body.count == 4, "\(body)")
            #expect(body.count == 4 && body[1] == shell, "its parent is the shell")
            #expect(body.first == body.dropFirst(2).first, "its own process group")
            #expect(body.last == "ps", "ps replaced the subshell")
            // A ) in the text: eval'd in a subshell, which forks once more for ps.
            let evald = fields(try await executor.run(RemoteCommand(": ')'\n" + Self.psLast), on: host))
            #expect(evald.count == 4 && evald[1] == shell && evald[0] == evald[2], "\(evald)")
            #expect(evald.last == "bash", "the subshell itself, waiting for ps")
        }
    }

    @Test("a text with no ) that does not parse runs once as it would in a channel: what precedes the error, status 2, the error on stderr")
    func bodySyntaxError() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let shell = try await Self.shellPid(executor, host)
            let ran = "\(fleet.hosts[0].root)/ran.txt"
            let cases: [(text: String, stdout: String, error: String)] = [
                ("echo before >> \(ran); echo before\nif true", "before\n", "syntax error"),
                ("echo 'open", "", "unexpected EOF"),
                ("echo a; (echo b", "", "syntax error"),
                ("cat <<EOF\nheredoc", "heredoc\n", "here-document"),
            ]
            for c in cases {
                let r = try await executor.run(RemoteCommand(c.text), on: host)
                #expect(r.stdout.text == c.stdout, "\(c.text)")
                #expect(r.stderr.text.contains(c.error), "\(c.text): \(r.stderr.text)")
            }
            var statuses: [Int32?] = []
            for c in cases { statuses.append(try await executor.run(RemoteCommand(c.text), on: host).exitStatus) }
            // The here-document is only warned about (bash runs it to the end of the text).
            #expect(statuses == [2, 2, 2, 0])
            // The first text's line before its error ran once per run of it, never in the shell.
            #expect(try await executor.run(RemoteCommand("cat \(ran)"), on: host).stdout.text == "before\nbefore\n")
            #expect(try await Self.shellPid(executor, host) == shell, "the same shell throughout")
        }
    }

    @Test("a builtin call runs in the shell itself: files written, both streams, statuses; a failed redirection leaves the shell going")
    func builtinInShell() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let shell = try await Self.shellPid(executor, host)
            let run = { (text: String) in try await executor.run(RemoteCommand(text), on: host) }
            // The session starts in the login user's home, which the tests share: a path of its own.
            let file = "\(fleet.hosts[0].root)/v.txt"
            let write = try await run("printf '%s\\n' 2.1.0 > \(file)")
            #expect(write.exitStatus == 0 && write.stdout.text.isEmpty && write.stderr.text.isEmpty)
            #expect(try await run("cat \(file)").stdout.text == "2.1.0\n")
            let streams = try await run("echo err >&2")
            #expect(streams.stdout.text.isEmpty && streams.stderr.text == "err\n")
            #expect(try await run("echo 'a  b' c").stdout.text == "a  b c\n")
            var statuses: [Int32?] = []
            for text in ["test -d /", "[ -f /nonexistent ]", "false", ":"] { statuses.append(try await run(text).exitStatus) }
            #expect(statuses == [0, 1, 1, 0])
            let bad = try await run("printf '%d' abc")
            #expect(bad.exitStatus == 1 && bad.stderr.text.contains("invalid number"), "\(bad.stderr.text)")
            let missing = try await run(": > /nonexistent/dir/x")
            #expect(missing.exitStatus == 1 && missing.stderr.text.contains("No such file"), "\(missing.stderr.text)")
            #expect(try await Self.shellPid(executor, host) == shell, "the same shell throughout")
        }
    }

    @Test(
        "a builtin blocked in the shell (writing to a FIFO nobody reads) ends with the shell at its timeout; the next command gets a new shell"
    )
    func builtinTimeout() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let fifo = "\(fleet.hosts[0].root)/fifo"
            #expect(try await executor.run(RemoteCommand("mkfifo \(fifo)"), on: host).exitStatus == 0)
            let shell = try await Self.shellPid(executor, host)
            let blocked = try await executor.run(RemoteCommand("printf x > \(fifo)", timeout: .seconds(1)), on: host)
            #expect(blocked.timedOut)
            let next = try await Self.shellPid(executor, host)
            #expect(next != shell, "a new shell")
            let old = try await executor.run(RemoteCommand("kill -0 \(shell) 2>/dev/null && echo alive || echo gone"), on: host)
            #expect(old.stdout.text == "gone\n", "the blocked shell was ended")
            // Not a builtin call alone: a subshell of its own group, ended without the shell.
            let inSubshell = try await executor.run(RemoteCommand("printf x > \(fifo); true", timeout: .seconds(1)), on: host)
            #expect(inSubshell.timedOut)
            #expect(try await Self.shellPid(executor, host) == next, "the same shell goes on")
        }
    }

    @Test("a builtin in the shell writing to a FIFO whose reader left gets EPIPE (status 1), not the shell's death")
    func builtinBrokenPipe() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            // A reader that takes one byte and leaves, started in the background first.
            let fifo = "\(fleet.hosts[0].root)/fifo"
            let reader = try await executor.run(RemoteCommand("mkfifo \(fifo); (head -c 1 \(fifo) > /dev/null &)"), on: host)
            #expect(reader.exitStatus == 0)
            let shell = try await Self.shellPid(executor, host)
            let r = try await executor.run(RemoteCommand("printf %9000000s x > \(fifo)", timeout: .seconds(20)), on: host)
            #expect(r.exitStatus == 1 && !r.timedOut, "\(r.exitStatus.map(String.init) ?? "no status"): \(r.stderr.text)")
            #expect(r.stderr.text.contains("Broken pipe"), "\(r.stderr.text)")
            #expect(try await Self.shellPid(executor, host) == shell, "the same shell goes on")
        }
    }

    @Test(
        "with aliases on in the shell (a ~/.bashrc, which bash reads under sshd), a text is never parsed in it: an alias holding a ) runs nothing there"
    )
    func aliasesInTheShell() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            let root = fleet.hosts[0].root
            // bash run by sshd reads ~/.bashrc (HOME is the host's own folder), not BASH_ENV.
            try FileManager.default.createDirectory(atPath: "\(root)/home", withIntermediateDirectories: true)
            try "shopt -s expand_aliases\nalias escape='echo inside; ) ; echo IN-SHELL > \(root)/escaped; ( :'\n"
                .write(toFile: "\(root)/home/.bashrc", atomically: true, encoding: .utf8)
            let host = fleet.inventoryHosts[0]
            let on = try await executor.run(RemoteCommand("shopt -q expand_aliases && echo on"), on: host)
            #expect(on.stdout.text == "on\n", "the shell read ~/.bashrc")
            let shell = try await Self.shellPid(executor, host)
            _ = try await executor.run(RemoteCommand("escape"), on: host)
            #expect(!FileManager.default.fileExists(atPath: "\(root)/escaped"), "nothing ran in the shell")
            let ps = try await executor.run(RemoteCommand(Self.psLast), on: host)
            #expect(ps.stdout.text.hasSuffix(" bash\n"), "eval'd in a subshell: \(ps.stdout.text)")
            #expect(try await Self.shellPid(executor, host) == shell, "the same shell throughout")
        }
    }

    @Test("a shell in POSIX mode (where a syntax error in eval would end it) evals every text in a subshell, builtins as `builtin`")
    func posixMode() async throws {
        try await withShell(FleetSpec(count: 1)) { fleet, executor in
            try await Self.reconfigure(fleet.hosts[0]) { $0.replacingOccurrences(of: "\nSetEnv ", with: "\nSetEnv POSIXLY_CORRECT=1 ") }
            let host = fleet.inventoryHosts[0]
            let posix = try await executor.run(RemoteCommand("case :$SHELLOPTS: in *:posix:*) echo posix;; esac"), on: host)
            #expect(posix.stdout.text == "posix\n", "the sessions' bash runs in POSIX mode")
            let shell = try await Self.shellPid(executor, host)
            let r = try await executor.run(RemoteCommand("echo 'open"), on: host)
            #expect(r.exitStatus == 2 && r.stderr.text.contains("unexpected EOF"), "\(r.stderr.text)")
            // A builtin run in the shell whose redirection fails: in POSIX mode that would end
            // the shell for `:`, a special builtin, but not when called as `builtin :`.
            let missing = try await executor.run(RemoteCommand(": > /nonexistent/dir/x"), on: host)
            #expect(missing.exitStatus == 1, "\(missing.stderr.text)")
            let ps = try await executor.run(RemoteCommand(Self.psLast), on: host)
            #expect(ps.stdout.text.hasSuffix(" bash\n"), "\(ps.stdout.text)")
            #expect(try await Self.shellPid(executor, host) == shell, "the same shell throughout")
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
