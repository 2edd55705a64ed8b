import FleetCore
import FleetTestFleet
import Foundation
import Testing

@testable import FleetStore

private typealias Host = FleetCore.Host
private let key = "0123456789abcdef"
private let fleetKey = FleetKey(hosts: [FleetCore.Host(name: "web1")], label: "/fleet/book.yml + /fleet/inv")
private let lockHost = FleetCore.Host(name: "lockhost")

private func result(_ stdout: String, status: Int32? = 0, stderr: String = "") -> CommandResult {
    CommandResult(exitStatus: status, stdout: CapturedOutput(stdout), stderr: CapturedOutput(stderr))
}

/// The owner printed whole, and the `held`/`free` answer, as every lock script writes them.
private let printLines = #"while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done"#
private let heldOrFree =
    #"[ -f "$f" ] && { echo 'fleetup-lock: held'; \#(printLines); } 2>/dev/null < "$f" || if [ -f "$f" ] || [ -L "$f" ]; then echo 'fleetup-lock: held'; else echo 'fleetup-lock: free'; fi"#

@Suite("remote lock protocol: the exact commands and the parser of their answers")
struct RemoteLockProtocolTests {
    @Test(
        "status, release and force release, as sent: builtins but for rm (and rmdir of a fleet's folder); a host's release ends with its rm"
    )
    func texts() {
        #expect(
            RemoteLockProtocol.status(in: .fleet(key)).script == #"""
                f="$HOME"/.local/state/fleetup/locks/0123456789abcdef/owner.json; \#(heldOrFree)
                """#)
        #expect(
            RemoteLockProtocol.release(in: .fleet(key), runID: "20261202-031501-3f2a").script == #"""
                d="$HOME"/.local/state/fleetup/locks/0123456789abcdef; f="$d/owner.json"; o=; [ -f "$f" ] && { IFS= read -r o || :; } 2>/dev/null < "$f"; p='"runID":"20261202-031501-3f2a"'; [ "${o#*"$p"}" != "$o" ] || { \#(heldOrFree); exit 0; }; echo 'fleetup-lock: released'; { \#(printLines); } 2>/dev/null < "$f"; rm -f "$f" "$d"/.owner.20261202-031501-3f2a.* || exit 1; rmdir "$d" 2>/dev/null || :
                """#)
        // A host's lock keeps its folder: no rmdir.
        #expect(
            RemoteLockProtocol.release(in: .host(), runID: "20261202-031501-3f2a").script == #"""
                d="$HOME"/.local/state/fleetup/host.lock; f="$d/owner.json"; o=; [ -f "$f" ] && { IFS= read -r o || :; } 2>/dev/null < "$f"; p='"runID":"20261202-031501-3f2a"'; [ "${o#*"$p"}" != "$o" ] || { \#(heldOrFree); exit 0; }; echo 'fleetup-lock: released'; { \#(printLines); } 2>/dev/null < "$f"; rm -f "$f" "$d"/.owner.20261202-031501-3f2a.*
                """#)
        #expect(
            RemoteLockProtocol.forceRelease(in: .fleet(key)).script == #"""
                d="$HOME"/.local/state/fleetup/locks/0123456789abcdef; f="$d/owner.json"; if [ -f "$f" ] || [ -L "$f" ]; then echo 'fleetup-lock: released'; { \#(printLines); } 2>/dev/null < "$f"; rm -f "$f" "$d"/.owner.* || exit 1; rmdir "$d" 2>/dev/null || :; else echo 'fleetup-lock: free'; fi
                """#)
        #expect(RemoteLockProtocol.status(in: .fleet(key)).timeout == .seconds(30))
        #expect(RemoteLockProtocol.status(in: .fleet(key)).display == "fleetup lock status 0123456789abcdef")
    }

    @Test("acquire and take-over write the owner's JSON as one quoted word")
    func acquireText() {
        let o = owner("20261202-031501-3f2a", machine: "ops1", pid: 4242)
        let json = "'" + o.json() + "'"  // no ' inside: quoted as is
        #expect(
            RemoteLockProtocol.acquire(in: .host(), owner: o).script == #"""
                umask 077; d="$HOME"/.local/state/fleetup/host.lock; f="$d/owner.json"; t="$d"/.owner.20261202-031501-3f2a.ops1.4242; if { [ -e "$f" ] || [ -L "$f" ]; } && [ ! -f "$f" ]; then echo "$f: exists and is not a file" >&2; exit 1; fi; { { [ -d "$d" ] || mkdir -p "$d"; } && printf '%s\n' \#(json) > "$t"; } 2>/dev/null || { mkdir -p "$d" && printf '%s\n' \#(json) > "$t"; } || { rm -f "$t"; exit 1; }; if ln "$t" "$f" 2>/dev/null || { [ ! -f "$f" ] && ln "$t" "$f"; }; then echo 'fleetup-lock: acquired'; elif rm -f "$t"; [ -f "$f" ]; then \#(heldOrFree); else echo "$f: given back while this run took it; try again" >&2; exit 1; fi
                """#)
        #expect(
            RemoteLockProtocol.takeOver(in: .fleet(key), staleRunID: "20261201-000000-0001", owner: o).script == #"""
                umask 077; d="$HOME"/.local/state/fleetup/locks/0123456789abcdef; f="$d/owner.json"; t="$d"/.owner.20261202-031501-3f2a.ops1.4242.new; o=; [ -f "$f" ] && { IFS= read -r o || :; } 2>/dev/null < "$f"; if p='"runID":"20261201-000000-0001"'; [ "${o#*"$p"}" != "$o" ]; then printf '%s\n' \#(json) > "$t" && mv -f "$t" "$f" || exit 1; echo 'fleetup-lock: acquired'; else \#(heldOrFree); fi
                """#)
    }

    @Test("values with shell characters stay one word")
    func quoting() {
        var o = owner("20261202-031501-3f2a")
        o.user = "o'brien; rm -rf ~"
        let acquire = RemoteLockProtocol.acquire(in: .fleet(key), owner: o).script
        #expect(acquire.contains(#"printf '%s\n' '{"fleet":"#))
        #expect(acquire.contains(#""user":"o'\''brien; rm -rf ~"}'"#))
        let release = RemoteLockProtocol.release(in: .fleet(key), runID: "x'; touch pwned; '").script
        #expect(release.contains(#"p='"runID":"x'\''; touch pwned; '\''"'; [ "${o#*"$p"}" != "$o" ]"#))
        #expect(
            RemoteLockProtocol.status(in: .fleet("a key")).script.hasPrefix(#"f="$HOME"/.local/state/fleetup/locks/'a key'/owner.json; "#))
    }

    @Test(
        "answers",
        arguments: [
            (result("fleetup-lock: acquired\n"), RemoteLockProtocol.Reply.acquired),
            (result("fleetup-lock: free\n"), .free),
            (result("fleetup-lock: held\n" + owner("20261202-031501-3f2a").json() + "\n"), .held(.held(owner("20261202-031501-3f2a")))),
            (
                result("fleetup-lock: released\n" + owner("20261202-031501-3f2a").json() + "\n"),
                .released(.held(owner("20261202-031501-3f2a")))
            ),
            // Something the login shell printed first is skipped.
            (result("welcome\nfleetup-lock: free\n"), .free),
            (
                result("fleetup-lock: held\n{\"runID\":1}\n"),
                .held(.unreadable(#"owner.json: expected the owner as JSON: runID: expected String"#))
            ),
            (result("fleetup-lock: released\n"), .released(.unreadable("owner.json is empty or unreadable"))),
        ])
    func answers(r: CommandResult, reply: RemoteLockProtocol.Reply) throws {
        #expect(try RemoteLockProtocol.parse(r, host: "lockhost") == reply)
    }

    @Test("a release that only asks whether it released does not decode the owner; the marker is read the same")
    func withoutOwner() throws {
        let released = result("fleetup-lock: released\n" + owner("20261202-031501-3f2a").json() + "\n")
        #expect(try RemoteLockProtocol.parse(released, host: "lockhost", readOwner: false) == .released(.unreadable("not read")))
        #expect(
            try RemoteLockProtocol.parse(result("fleetup-lock: held\n{}\n"), host: "h", readOwner: false) == .held(.unreadable("not read")))
        #expect(try RemoteLockProtocol.parse(result("fleetup-lock: free\n"), host: "h", readOwner: false) == .free)
    }

    @Test(
        "failures name the host and the reason",
        arguments: [
            (
                result("", status: 1, stderr: "mkdir: cannot create directory '/home/u/.local': Permission denied\n"),
                "lock host lockhost: the lock command exited 1: mkdir: cannot create directory '/home/u/.local': Permission denied"
            ),
            (
                result("", status: 127, stderr: "sh: 1: grep: not found\n"),
                "lock host lockhost: the lock command exited 127: sh: 1: grep: not found"
            ),
            (result("nothing useful\n"), "lock host lockhost: the lock command printed no answer"),
            (result("", status: nil), "lock host lockhost: the lock command was killed"),
            (result("fleetup-lock: maybe\n"), "lock host lockhost: unexpected answer from the lock script: fleetup-lock: maybe"),
        ])
    func failures(r: CommandResult, message: String) async {
        let error = await thrown(LockError.self) { _ = try RemoteLockProtocol.parse(r, host: "lockhost") }
        #expect(error?.description == message)
    }
}

@Suite("remote lock: the scripts run by a real sh (HOME in a temporary folder)")
struct RemoteLockScriptTests {
    @Test("acquire, refuse the second, release only by the owner, then free")
    func lifecycle() async throws {
        try await withFolder { home async throws in
            let lock = RemoteLock(host: lockHost, key: fleetKey, executor: LocalShellExecutor(home: home))
            let first = owner("20261202-031501-3f2a")
            #expect(try await lock.acquire(first) == nil)
            let file = home + "/.local/state/fleetup/locks/\(fleetKey.hex)/owner.json"
            #expect(try String(contentsOfFile: file, encoding: .utf8) == first.json() + "\n")
            #expect(try mode(file) == 0o600)
            #expect(try mode(home + "/.local/state/fleetup/locks/\(fleetKey.hex)") == 0o700)
            #expect(try mode(home + "/.local") == 0o700)

            let error = await thrown(LockError.self) { try await lock.acquire(owner("20261202-040000-0001")) }
            #expect(error == .held(first))
            #expect(try await lock.holder() == .held(first))
            #expect(try await lock.release("20261202-040000-0001") == false)
            #expect(try await lock.holder() == .held(first))
            #expect(try await lock.release(first.runID))
            #expect(try await lock.holder() == .free)
            // Nothing is left behind: no temporary owner file, not even the lock's empty folder.
            #expect(!FileManager.default.fileExists(atPath: home + "/.local/state/fleetup/locks/\(fleetKey.hex)"))
        }
    }

    @Test("a remote owner from this machine whose pid is gone is stale: taken over")
    func stale() async throws {
        try await withFolder { home async throws in
            let lock = RemoteLock(host: lockHost, key: fleetKey, executor: LocalShellExecutor(home: home))
            let dead = owner("20261202-031501-3f2a", pid: try reapedPid())
            try await lock.acquire(dead)
            let mine = owner("20261202-040000-0001")
            #expect(try await lock.acquire(mine) == "took over the stale lock on lockhost of \(dead): that process is gone")
            #expect(try await lock.holder() == .held(mine))
            // Another machine's owner with a dead-looking pid is not ours to judge.
            let other = RemoteLock(host: lockHost, key: fleetKey, executor: LocalShellExecutor(home: home))
            _ = try await other.forceRelease()
            let elsewhere = owner("20261202-031501-3f2a", machine: "ops-elsewhere", pid: try reapedPid())
            try await other.acquire(elsewhere)
            #expect(await thrown(LockError.self) { try await lock.acquire(mine) } == .held(elsewhere))
        }
    }

    @Test("a host's own lock: its run takes it over from an earlier part on another machine (a resume); another run's is refused")
    func hostLockSameRun() async throws {
        try await withFolder { home async throws in
            let place = RemoteLockPlace.host()
            let lock = RemoteLock(host: lockHost, place: place, executor: LocalShellExecutor(home: home))
            let earlier = owner("20261202-031501-3f2a", machine: "ops-elsewhere", pid: 4242)
            try await lock.acquire(earlier)
            #expect(FileManager.default.fileExists(atPath: home + "/.local/state/fleetup/host.lock/owner.json"))
            let resumed = owner("20261202-031501-3f2a")
            #expect(
                try await lock.acquire(resumed, sameRun: true)
                    == "took over the stale lock on lockhost of \(earlier): an earlier part of this run")
            #expect(try await lock.holder() == .held(resumed))
            // Without sameRun (a fleet's lock), or for another run, it stays held.
            #expect(await thrown(LockError.self) { try await lock.acquire(owner("20261202-040000-0001"), sameRun: true) } == .held(resumed))
            // The folder an inventory names instead (`fleetup_host_lock_dir`), under HOME or absolute.
            #expect(RemoteLockPlace.host(folder: "~/locks/x y").folder == #""$HOME"/'locks/x y'"#)
            #expect(RemoteLockPlace.host(folder: "/var/lib/fleetup").folder == "/var/lib/fleetup")
        }
    }

    @Test("a quote in a value reaches the file intact and runs nothing")
    func quotingEndToEnd() async throws {
        try await withFolder { home async throws in
            let lock = RemoteLock(host: lockHost, key: fleetKey, executor: LocalShellExecutor(home: home))
            var o = owner("20261202-031501-3f2a")
            o.user = "o'brien; touch pwned; '"
            try await lock.acquire(o)
            #expect(try await lock.holder() == .held(o))
            #expect(try await lock.release("x'; touch pwned; '") == false)
            #expect(!FileManager.default.fileExists(atPath: home + "/pwned"))
            #expect(!FileManager.default.fileExists(atPath: "pwned"))
        }
    }

    @Test("an unreachable lock host is a LockError naming the host and why; the local lock is given back")
    func unreachable() async throws {
        try await withFolder { dir async throws in
            let remote = RemoteLock(host: lockHost, key: fleetKey, executor: LocalShellExecutor(home: dir, down: true))
            let fleet = FleetLock(store: RunStore(root: dir + "/state"), key: fleetKey, remote: remote)
            let error = await thrown(LockError.self) { _ = try await fleet.acquire(owner("20261202-031501-3f2a")) }
            #expect(error?.description == "lock host lockhost: unreachable: connection refused (127.0.0.1:1)")
            #expect(try fleet.local.holder() == .free)
            let status = await fleet.status()
            #expect(!status.isFree)
            #expect(status.remoteError == error)
        }
    }

    @Test("a remote lock held elsewhere refuses the run and gives the local lock back")
    func heldRemotely() async throws {
        try await withFolder { dir async throws in
            let remote = RemoteLock(host: lockHost, key: fleetKey, executor: LocalShellExecutor(home: dir + "/home"))
            let elsewhere = owner("20261202-031501-3f2a", machine: "ops2")
            try await remote.acquire(elsewhere)
            let fleet = FleetLock(store: RunStore(root: dir + "/state"), key: fleetKey, remote: remote)
            #expect(await thrown(LockError.self) { _ = try await fleet.acquire(owner("20261202-040000-0001")) } == .held(elsewhere))
            #expect(try fleet.local.holder() == .free)
            let status = await fleet.status()
            #expect(status.local == .free && status.remote == .held(elsewhere) && !status.isFree)
        }
    }
}

/// The shells the lock scripts must work in: a login shell that is not bash runs them
/// directly (Debian's /bin/sh is dash), and the persistent shell runs them in bash.
private let shells = ["/bin/sh", "/bin/bash"]

/// A host's lock folder under `home`, made (as a first acquire would).
private func hostLockFolder(in home: String) throws -> String {
    let folder = home + "/.local/state/fleetup/host.lock"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

@Suite("remote lock: the builtin-only scripts in dash and bash")
struct RemoteLockShellTests {
    @Test("a host's lock: taken with ln alone once its folder exists, given back with rm alone, the folder kept", arguments: shells)
    func hostLockProcesses(shell: String) async throws {
        try await withFolder { dir async throws in
            let home = dir + "/home"
            let folder = home + "/.local/state/fleetup/host.lock"
            // The first time the folder is made (mkdir -p: one more process, once).
            let first = RemoteLock(host: lockHost, place: .host(), executor: LocalShellExecutor(home: home, shell: shell))
            let a = owner("20261202-031501-3f2a")
            #expect(try await first.acquire(a) == nil)
            #expect(try await first.release(a.runID))
            #expect(FileManager.default.fileExists(atPath: folder))
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
            #expect(try mode(folder) == 0o700)
            // From then on PATH holds ln (and, for a loser, rm) and nothing else, so any other
            // command would fail ("not found"): the lock is still taken, refused, read and
            // given back.
            func only(_ tools: [String]) throws -> LocalShellExecutor {
                let bin = dir + "/only-" + tools.joined(separator: "-")
                try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
                for t in tools { try FileManager.default.createSymbolicLink(atPath: bin + "/" + t, withDestinationPath: "/bin/" + t) }
                return LocalShellExecutor(home: home, shell: shell, path: bin)
            }
            let lnOnly = RemoteLock(host: lockHost, place: .host(), executor: try only(["ln"]))
            #expect(try await lnOnly.acquire(a) == nil)
            #expect(try mode(folder + "/owner.json") == 0o600)
            let b = owner("20261202-040000-0001")
            let lnRm = RemoteLock(host: lockHost, place: .host(), executor: try only(["ln", "rm"]))
            #expect(await thrown(LockError.self) { try await lnRm.acquire(b) } == .held(a))
            // Beside it only the winner's temporary name (a second link, removed with it); the
            // loser's is gone.
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
                    ".owner.\(a.runID).\(a.machine).\(a.pid)", "owner.json",
                ])
            let none = RemoteLock(
                host: lockHost, place: .host(), executor: LocalShellExecutor(home: home, shell: shell, path: dir + "/none"))
            #expect(try await none.holder() == .held(a))
            #expect(try await none.release(b.runID) == false)
            let rmOnly = RemoteLock(host: lockHost, place: .host(), executor: try only(["rm"]))
            #expect(try await rmOnly.release(a.runID))
            #expect(try await none.holder() == .free)
            #expect(FileManager.default.fileExists(atPath: folder))
        }
    }

    @Test(
        "a lock an older fleetup wrote (ln of a temporary file; its release removes the folder) is held, matched and given back",
        arguments: shells)
    func olderProtocol(shell: String) async throws {
        try await withFolder { home async throws in
            let folder = home + "/.local/state/fleetup/host.lock"
            let old = owner("20261202-031501-3f2a", machine: "ops-old")
            // What the older acquire left: owner.json hard-linked from `.owner.<run>.<pid>`,
            // the temporary name removed; one left over by an older loser beside it.
            let older = #"""
                umask 077; d="$HOME"/.local/state/fleetup/host.lock; t="$d"/.owner.20261202-031501-3f2a.$$; mkdir -p "$d" && printf '%s\n' \#(ShellQuote.quote(old.json())) > "$t" && ln "$t" "$d/owner.json" && rm -f "$t" && : > "$d"/.owner.x.1
                """#
            _ = try await LocalShellExecutor(home: home, shell: shell).run(RemoteCommand(older, display: "older acquire"), on: lockHost)
            let lock = RemoteLock(host: lockHost, place: .host(), executor: LocalShellExecutor(home: home, shell: shell))
            let mine = owner("20261202-040000-0001")
            #expect(await thrown(LockError.self) { try await lock.acquire(mine) } == .held(old))
            #expect(try await lock.release(old.runID))
            #expect(try await lock.holder() == .free)
            // The older release removed the empty folder: the next acquire makes it again.
            try FileManager.default.removeItem(atPath: folder)
            #expect(try await lock.acquire(mine) == nil)
            #expect(try await lock.holder() == .held(mine))
        }
    }

    @Test("of many acquirers at once exactly one wins, and every other reads the winner whole", arguments: shells)
    func race(shell: String) async throws {
        try await withFolder { home async throws in
            for round in 0..<5 {
                let owners = (0..<12).map { owner(String(format: "20261202-0315%02d-%04d", round, $0)) }
                let replies = try await withThrowingTaskGroup(of: (LockOwner, RemoteLockProtocol.Reply).self) { group in
                    for o in owners {
                        group.addTask {
                            let result = try await LocalShellExecutor(home: home, shell: shell)
                                .run(RemoteLockProtocol.acquire(in: .host(), owner: o), on: lockHost)
                            return (o, try RemoteLockProtocol.parse(result, host: "lockhost"))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let winners = replies.filter { $0.1 == .acquired }.map(\.0)
                #expect(winners.count == 1, "round \(round): \(winners.count) acquirers won")
                guard let winner = winners.first else { continue }
                for (_, reply) in replies where reply != .acquired { #expect(reply == .held(.held(winner))) }
                let lock = RemoteLock(host: lockHost, place: .host(), executor: LocalShellExecutor(home: home, shell: shell))
                #expect(try await lock.release(winner.runID))
            }
        }
    }

    @Test("an owner.json that is not a file is an error naming it, never written to or waited on", arguments: shells)
    func notAFile(shell: String) async throws {
        try await withFolder { home async throws in
            let folder = try hostLockFolder(in: home)
            let lock = RemoteLock(host: lockHost, place: .host(), executor: LocalShellExecutor(home: home, shell: shell))
            // A FIFO: a `>` would wait for a reader that never comes.
            #expect(mkfifo(folder + "/owner.json", 0o600) == 0)
            let fifo = await thrown(LockError.self) { try await lock.acquire(owner("20261202-031501-3f2a")) }
            #expect(fifo?.description.hasSuffix("/owner.json: exists and is not a file") == true, "\(String(describing: fifo))")
            try FileManager.default.removeItem(atPath: folder + "/owner.json")
            try FileManager.default.createDirectory(atPath: folder + "/owner.json", withIntermediateDirectories: true)
            let folderError = await thrown(LockError.self) { try await lock.acquire(owner("20261202-031501-3f2a")) }
            #expect(folderError?.description.contains("the lock command exited 1") == true)
            #expect(try await lock.holder() == .free)
        }
    }

    @Test(
        "an owner.json that is a symbolic link to nothing: acquire names it, status says held, a forced release clears it",
        arguments: shells)
    func danglingLink(shell: String) async throws {
        try await withFolder { home async throws in
            let folder = try hostLockFolder(in: home)
            try FileManager.default.createSymbolicLink(atPath: folder + "/owner.json", withDestinationPath: folder + "/gone")
            let lock = RemoteLock(host: lockHost, place: .host(), executor: LocalShellExecutor(home: home, shell: shell))
            let error = await thrown(LockError.self) { try await lock.acquire(owner("20261202-031501-3f2a")) }
            #expect(error?.description.hasSuffix("/owner.json: exists and is not a file") == true, "\(String(describing: error))")
            guard case .unreadable = try await lock.holder() else {
                Issue.record("a link no acquire can replace reads as free")
                return
            }
            let forced = try await LocalShellExecutor(home: home, shell: shell).run(
                RemoteLockProtocol.forceRelease(in: .host()), on: lockHost)
            guard case .released = try RemoteLockProtocol.parse(forced, host: "lockhost") else {
                Issue.record("not released: \(forced.stdout.text)")
                return
            }
            #expect(try await lock.holder() == .free)
            #expect(try await lock.acquire(owner("20261202-031501-3f2a")) == nil)
        }
    }

    @Test(
        "a full disk: the lock is not taken, the error says why, and nothing is left behind to hold the host",
        .enabled(if: SmallDisk.available, "needs root to mount a small tmpfs"), arguments: shells)
    func fullDisk(shell: String) async throws {
        try await SmallDisk.with(bytes: 64 << 10) { disk in
            let folder = disk.path + "/host.lock"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try disk.fill()
            let lock = RemoteLock(host: lockHost, place: .host(folder: folder), executor: LocalShellExecutor(home: disk.path, shell: shell))
            let error = await thrown(LockError.self) { try await lock.acquire(owner("20261202-031501-3f2a")) }
            #expect(error?.description.hasPrefix("lock host lockhost: the lock command exited 1: ") == true, "\(String(describing: error))")
            #expect(error?.description.contains("printf") == true, "\(String(describing: error))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "no owner.json, no temporary file")
            // Room again: the lock is taken.
            try FileManager.default.removeItem(atPath: disk.path + "/fill")
            #expect(try await lock.acquire(owner("20261202-031501-3f2a")) == nil)
        }
    }

    @Test("an owner file of several lines, the last without its newline, is printed whole", arguments: shells)
    func printedWhole(shell: String) async throws {
        try await withFolder { home async throws in
            let folder = try hostLockFolder(in: home)
            try Data("first line\n\n  third \\ line".utf8).write(to: URL(fileURLWithPath: folder + "/owner.json"))
            let result = try await LocalShellExecutor(home: home, shell: shell).run(RemoteLockProtocol.status(in: .host()), on: lockHost)
            #expect(result.stdout.text == "fleetup-lock: held\nfirst line\n\n  third \\ line\n")
        }
    }
}

@Suite("lock host: which host keeps the remote lock")
struct LockHostTests {
    static let inventory = Inventory(
        hosts: [
            Host(name: "web1"), Host(name: "web2"), Host(name: "db1"),
        ], groups: [:])

    @Test("the first planned host, unless fleetup_lock_host names one")
    func choose() throws {
        #expect(try LockHost.choose(planned: [Host(name: "web2"), Host(name: "web1")], inventory: Self.inventory)?.name == "web2")
        let named = Host(name: "web2", vars: ["fleetup_lock_host": .string("db1")])
        #expect(try LockHost.choose(planned: [named], inventory: Self.inventory)?.name == "db1")
        #expect(try LockHost.choose(planned: [], inventory: Self.inventory) == nil)
    }

    @Test("a fleetup_lock_host that is no host of the inventory is an error")
    func unknown() async {
        let named = Host(name: "web2", vars: ["fleetup_lock_host": .string("db9")])
        let error = await thrown(LockError.self) { _ = try LockHost.choose(planned: [named], inventory: Self.inventory) }
        #expect(error == .badLockHost("db9"))
        #expect(error?.description.hasPrefix(#"fleetup_lock_host: "db9" is not a host of the inventory"#) == true)
    }
}
