import FleetCore
import Foundation
import Testing

@testable import FleetStore

@Suite("fleet key")
struct FleetKeyTests {
    @Test("FNV-1a 64 of known inputs")
    func fnv() {
        #expect(FleetKey.fnv1a64("") == "cbf29ce484222325")
        #expect(FleetKey.fnv1a64("a") == "af63dc4c8601ec8c")
        #expect(FleetKey.fnv1a64("foobar") == "85944171f73967e8")
    }

    static func host(_ name: String, _ vars: [String: VarValue] = [:]) -> FleetCore.Host { FleetCore.Host(name: name, vars: vars) }

    /// Pairs of host sets and whether they make the same key.
    static let rows: [(a: [FleetCore.Host], b: [FleetCore.Host], same: Bool, why: String)] = [
        ([host("web1"), host("web2")], [host("web2"), host("web1")], true, "order does not matter"),
        (
            [host("web1", ["ansible_host": .string("10.0.0.1")])], [host("other-name", ["ansible_host": .string("10.0.0.1")])], true,
            "names do not matter: where the host is does"
        ),
        ([host("web1")], [host("web1", ["ansible_port": .int(22)])], true, "port 22 is the default"),
        ([host("web1")], [host("web1", ["ansible_port": .int(2222)])], false, "another port is another sshd"),
        ([host("web1"), host("web2")], [host("web1")], false, "a subset is another fleet (host locks keep them apart)"),
        (
            [host("a", ["ansible_host": .string("127.0.0.1"), "ansible_port": .int(2201)])],
            [host("a", ["ansible_ssh_host": .string("127.0.0.1"), "ansible_ssh_port": .string("2201")])], true, "ansible_ssh_ spellings"
        ),
    ]

    @Test("the key comes from where the plan's hosts are, not from file paths", arguments: rows.indices)
    func fromHosts(row: Int) {
        let r = Self.rows[row]
        let a = FleetKey(hosts: r.a, label: "a"), b = FleetKey(hosts: r.b, label: "b")
        #expect((a.hex == b.hex) == r.same, "\(r.why)")
        #expect(a.hex.count == 16)
    }

    @Test("a key read back from a journal keeps its hex")
    func readBack() {
        let k = FleetKey(hosts: [Self.host("web1")], label: "x")
        #expect(FleetKey(hex: k.hex, label: "x").hex == k.hex)
        #expect(k.endpoints == ["web1:22"])
        #expect(FleetKey.label(playbook: "playbooks/m.yml", inventories: ["inv/a", "inv/b"]) == "playbooks/m.yml + inv/a, inv/b")
    }
}

@Suite("lock owner")
struct LockOwnerTests {
    @Test("the owner's JSON round-trips with its time as ISO-8601 UTC, and describes the holder")
    func json() throws {
        let o = owner("20261202-031501-3f2a", machine: "ops1", pid: 4242)
        #expect(
            o.json()
                == #"{"fleet":"playbooks/mattermost.yml + inventories/demo","fleetKey":"0123456789abcdef","inventories":["inventories/demo"],"machine":"ops1","pid":4242,"playbook":"playbooks/mattermost.yml","runID":"20261202-031501-3f2a","startedAt":"2026-12-02T03:15:01Z","user":"alice"}"#
        )
        #expect(try LockOwner.parse(o.json()) == o)
        #expect(
            LockError.held(o).description
                == "the fleet is locked by run 20261202-031501-3f2a (alice@ops1, pid 4242, since 2026-12-02T03:15:01Z); wait for it to finish, or `fleetup lock release --force` if it is gone"
        )
    }
}

@Suite("local lock: one run at a time on this machine")
struct LocalLockTests {
    static let key = FleetKey(hosts: [FleetCore.Host(name: "web1")], label: "/fleet/book.yml + /fleet/inv")

    @Test("a second acquire is refused, naming the holder; the lock file is 0600 JSON")
    func secondRefused() async throws {
        try await withFolder { dir async throws in
            let lock = LocalLock(store: RunStore(root: dir), key: Self.key)
            let first = owner("20261202-031501-3f2a")
            #expect(try lock.acquire(first) == nil)
            #expect(lock.path == dir + "/locks/\(Self.key.hex).json")
            #expect(try mode(lock.path) == 0o600)
            #expect(try mode(dir + "/locks") == 0o700)
            #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == first.json() + "\n")

            let error = await thrown(LockError.self) { try lock.acquire(owner("20261202-040000-0001")) }
            #expect(error == .held(first))
            #expect(try lock.holder() == .held(first))
        }
    }

    @Test("a lock whose process is gone on this machine is stale: taken over, with a note")
    func staleTakenOver() async throws {
        try await withFolder { dir async throws in
            let lock = LocalLock(store: RunStore(root: dir), key: Self.key)
            let dead = owner("20261202-031501-3f2a", pid: try reapedPid())
            try lock.acquire(dead)
            let mine = owner("20261202-040000-0001")
            let note = try lock.acquire(mine)
            #expect(note == "took over the stale local lock of \(dead): that process is gone")
            #expect(try lock.holder() == .held(mine))
        }
    }

    @Test("a lock of another machine is never judged stale from here, whatever its pid")
    func otherMachine() async throws {
        try await withFolder { dir async throws in
            let lock = LocalLock(store: RunStore(root: dir), key: Self.key)
            let elsewhere = owner("20261202-031501-3f2a", machine: "ops-elsewhere", pid: try reapedPid())
            try lock.acquire(elsewhere)
            let error = await thrown(LockError.self) { try lock.acquire(owner("20261202-040000-0001")) }
            #expect(error == .held(elsewhere))
        }
    }

    @Test("an empty lock file (died while taking it) is taken over; a garbled one is refused")
    func emptyAndGarbled() async throws {
        try await withFolder { dir async throws in
            let lock = LocalLock(store: RunStore(root: dir), key: Self.key)
            try FileManager.default.createDirectory(atPath: dir + "/locks", withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: lock.path))
            #expect(try lock.acquire(owner("20261202-040000-0001"))?.contains("empty local lock") == true)

            try Data("not json".utf8).write(to: URL(fileURLWithPath: lock.path))
            let error = await thrown(LockError.self) { try lock.acquire(owner("20261202-040000-0002")) }
            guard case .unreadable(let place, _) = error else {
                Issue.record("expected unreadable, got \(String(describing: error))"); return
            }
            #expect(place == lock.path)
        }
    }

    @Test("release by a run that does not hold the lock leaves it; the holder's release frees it")
    func releaseOnlyOurs() async throws {
        try await withFolder { dir async throws in
            let lock = LocalLock(store: RunStore(root: dir), key: Self.key)
            let holder = owner("20261202-031501-3f2a")
            try lock.acquire(holder)
            #expect(try lock.release("20261202-040000-0001") == false)
            #expect(try lock.holder() == .held(holder))
            #expect(try lock.release(holder.runID))
            #expect(try lock.holder() == .free)
            #expect(!FileManager.default.fileExists(atPath: lock.path))
            #expect(try lock.release(holder.runID) == false)
        }
    }

    @Test("force release removes whoever holds it and writes who released it to released.log")
    func forceRelease() async throws {
        try await withFolder { dir async throws in
            let store = RunStore(root: dir)
            let fleet = FleetLock(store: store, key: Self.key)
            let holder = owner("20261202-031501-3f2a", machine: "ops1", pid: 4242)
            _ = try await fleet.acquire(holder)
            let result = try await fleet.forceRelease(by: "bob@ops2", now: Date(timeIntervalSince1970: 1_796_185_000))
            #expect(result.local == .held(holder))
            #expect(try fleet.local.holder() == .free)
            let log = try String(contentsOfFile: dir + "/locks/released.log", encoding: .utf8)
            #expect(
                log == "2026-12-02T04:16:40Z bob@ops2 force-released fleet /fleet/book.yml + /fleet/inv (key \(Self.key.hex)): "
                    + "local held by run 20261202-031501-3f2a (alice@ops1, pid 4242, since 2026-12-02T03:15:01Z)\n")
            _ = try await fleet.forceRelease(by: "bob@ops2", now: Date(timeIntervalSince1970: 1_796_185_001))
            let lines = try String(contentsOfFile: dir + "/locks/released.log", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2 && lines[1].hasSuffix(": local free"))
            #expect(try mode(dir + "/locks/released.log") == 0o600)
        }
    }

    @Test("two acquirers racing on this machine: exactly one holds the lock")
    func race() async throws {
        try await withFolder { dir async throws in
            let lock = LocalLock(store: RunStore(root: dir), key: Self.key)
            let owners = (0..<16).map { owner(String(format: "20261202-031501-%04x", $0)) }
            let won = try await withThrowingTaskGroup(of: Bool.self) { group in
                for o in owners {
                    group.addTask {
                        do { try lock.acquire(o); return true } catch LockError.held { return false }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(won == 1)
            #expect(owners.contains { try! lock.holder() == .held($0) })
        }
    }
}
