import FleetCore
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

@Suite("remote lock protocol: the exact commands and the parser of their answers")
struct RemoteLockProtocolTests {
    @Test("status, release and force release, as sent")
    func texts() {
        #expect(
            RemoteLockProtocol.status(in: .fleet(key)).script == #"""
                f="$HOME"/.local/state/fleetup/locks/0123456789abcdef/owner.json; if [ -f "$f" ]; then echo 'fleetup-lock: held'; cat "$f"; else echo 'fleetup-lock: free'; fi
                """#)
        #expect(
            RemoteLockProtocol.release(in: .fleet(key), runID: "20261202-031501-3f2a").script == #"""
                d="$HOME"/.local/state/fleetup/locks/0123456789abcdef; f="$d/owner.json"; if grep -qF -- '"runID":"20261202-031501-3f2a"' "$f" 2>/dev/null; then echo 'fleetup-lock: released'; cat "$f"; rm -f "$f" || exit 1; rmdir "$d" 2>/dev/null; elif [ -f "$f" ]; then echo 'fleetup-lock: held'; cat "$f"; else echo 'fleetup-lock: free'; fi
                """#)
        #expect(
            RemoteLockProtocol.forceRelease(in: .fleet(key)).script == #"""
                d="$HOME"/.local/state/fleetup/locks/0123456789abcdef; f="$d/owner.json"; if [ -f "$f" ]; then echo 'fleetup-lock: released'; cat "$f"; rm -f "$f" || exit 1; rmdir "$d" 2>/dev/null; else echo 'fleetup-lock: free'; fi
                """#)
        #expect(RemoteLockProtocol.status(in: .fleet(key)).timeout == .seconds(30))
        #expect(RemoteLockProtocol.status(in: .fleet(key)).display == "fleetup lock status 0123456789abcdef")
    }

    @Test("acquire and take-over write the owner's JSON as one quoted word")
    func acquireText() {
        let o = owner("20261202-031501-3f2a", machine: "ops1", pid: 4242)
        let json = "'" + o.json() + "'"  // no ' inside: quoted as is
        #expect(
            RemoteLockProtocol.acquire(in: .fleet(key), owner: o).script == #"""
                umask 077; d="$HOME"/.local/state/fleetup/locks/0123456789abcdef; t="$d"/.owner.20261202-031501-3f2a.$$; { mkdir -p "$d" && printf '%s\n' \#(json) > "$t"; } 2>/dev/null || { mkdir -p "$d" && printf '%s\n' \#(json) > "$t"; } || exit 1; if e=$(ln "$t" "$d/owner.json" 2>&1); then rm -f "$t"; echo 'fleetup-lock: acquired'; elif [ -f "$d/owner.json" ]; then rm -f "$t"; echo 'fleetup-lock: held'; cat "$d/owner.json"; else rm -f "$t"; echo "$e" >&2; exit 1; fi
                """#)
        #expect(
            RemoteLockProtocol.takeOver(in: .fleet(key), staleRunID: "20261201-000000-0001", owner: o).script == #"""
                umask 077; d="$HOME"/.local/state/fleetup/locks/0123456789abcdef; f="$d/owner.json"; t="$d"/.owner.20261202-031501-3f2a.$$; if grep -qF -- '"runID":"20261201-000000-0001"' "$f" 2>/dev/null; then printf '%s\n' \#(json) > "$t" && mv -f "$t" "$f" || exit 1; echo 'fleetup-lock: acquired'; elif [ -f "$f" ]; then echo 'fleetup-lock: held'; cat "$f"; else echo 'fleetup-lock: free'; fi
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
        #expect(release.contains(#"grep -qF -- '"runID":"x'\''; touch pwned; '\''"' "$f""#))
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
