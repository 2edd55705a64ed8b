import FleetCore
import FleetLocal
import FleetSSH
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// The fleet lock on a real lock host (sshd on 127.0.0.1), through the library and through
/// `fleetup lock` as a user runs it.
@Suite("fleet lock on a lock host")
struct LockTests {
    /// A playbook for the test fleet (every host, one stage); written into the fleet's folder.
    static func playbook(in fleet: TestFleet) throws -> String {
        let path = fleet.directory + "/book.yml"
        try """
        name: app
        hosts: all
        version: { detect: "app version", target: "1.1.0" }
        releases: ["1.0.0", "1.1.0"]
        steps:
          - name: noop
            run: "true"

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func owner(_ runID: String, _ key: FleetKey) -> LockOwner {
        LockOwner.current(runID: runID, key: key, playbook: "book.yml", inventories: ["inventory.yml"])
    }

    /// The fleet's key as `fleetup lock` and `run` work it out: from the plan's hosts (every host).
    static func key(_ book: String, _ fleet: TestFleet) -> FleetKey {
        FleetKey(hosts: fleet.inventoryHosts, label: FleetKey.label(playbook: book, inventories: [fleet.inventoryPath]))
    }

    /// The lock file as the lock host keeps it (the test hosts' HOME is their own folder).
    static func remoteFile(_ fleet: TestFleet, _ key: FleetKey) -> String {
        fleet.hosts[0].root + "/home/.local/state/fleetup/locks/\(key.hex)/owner.json"
    }

    @Test("eight acquires at once on one lock host: exactly one wins, every other is told who won")
    func concurrentAcquires() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let key = Self.key(try Self.playbook(in: fleet), fleet)
            let lock = RemoteLock(host: fleet.inventoryHosts[0], key: key, executor: executor)
            let owners = (0..<8).map { Self.owner(String(format: "20261202-031501-%04x", $0), key) }
            let outcomes = await withTaskGroup(of: (LockOwner, LockError?).self) { group in
                for o in owners {
                    group.addTask {
                        do { try await lock.acquire(o); return (o, nil) } catch let e as LockError { return (o, e) } catch {
                            return (o, .remote(host: "?", reason: "\(error)"))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.filter { $0.1 == nil }.map(\.0)
            try #require(winners.count == 1, "outcomes: \(outcomes)")
            let winner = winners[0]
            for (_, error) in outcomes where error != nil {
                #expect(error == .held(winner))
                #expect(error?.description.hasPrefix("the fleet is locked by run \(winner.runID) (") == true)
            }
            #expect(try LockOwner.parse(String(contentsOfFile: Self.remoteFile(fleet, key), encoding: .utf8)) == winner)
            #expect(try await lock.holder() == .held(winner))
            // The losers' temporary owner files are gone; the winner's stays as a second link
            // to its owner until its release removes both.
            let folder = (Self.remoteFile(fleet, key) as NSString).deletingLastPathComponent
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                    == [".owner.\(winner.runID).\(winner.machine).\(winner.pid)", "owner.json"])
            #expect(try await lock.release(winner.runID))
            #expect(!FileManager.default.fileExists(atPath: folder), "released: nothing left, not even the folder")
        }
    }

    @Test("release by another run leaves the lock; release by its owner frees it")
    func releaseByOwner() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let key = Self.key(try Self.playbook(in: fleet), fleet)
            let lock = RemoteLock(host: fleet.inventoryHosts[0], key: key, executor: executor)
            let holder = Self.owner("20261202-031501-3f2a", key)
            try await lock.acquire(holder)
            #expect(try await lock.release("20261202-040000-0001") == false)
            #expect(try await lock.holder() == .held(holder))
            #expect(try await lock.release(holder.runID))
            #expect(try await lock.holder() == .free)
            #expect(!FileManager.default.fileExists(atPath: Self.remoteFile(fleet, key)))
            // Free again: the next run takes it.
            try await lock.acquire(Self.owner("20261202-040000-0001", key))
        }
    }

    @Test("force release frees the local and the remote lock, and records who held them")
    func forceRelease() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let key = Self.key(try Self.playbook(in: fleet), fleet)
            let store = RunStore(root: fleet.directory + "/state")
            let lock = FleetLock(store: store, key: key, remote: RemoteLock(host: fleet.inventoryHosts[0], key: key, executor: executor))
            let holder = Self.owner("20261202-031501-3f2a", key)
            #expect(try await lock.acquire(holder) == [])
            #expect(await lock.status().remote == .held(holder))

            let released = try await lock.forceRelease(by: "bob@ops2")
            #expect(released.local == .held(holder))
            #expect(released.remote == .held(holder))
            let status = await lock.status()
            #expect(status.isFree && status.local == .free && status.remote == .free)
            let log = try String(contentsOfFile: store.locksFolder + "/released.log", encoding: .utf8)
            #expect(
                log.hasSuffix(
                    " bob@ops2 force-released fleet \(key.label) (key \(key.hex)): local held by \(holder); "
                        + "lock host host01 held by \(holder)\n"))
        }
    }

    @Test("fleetup lock status shows the holder (exit 1); release needs --force (exit 2), then it is free (exit 0)")
    func command() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let book = try Self.playbook(in: fleet)
            let state = fleet.directory + "/state"
            func fleetup(_ args: [String]) async throws -> LocalProcess.Exit {
                try await TestFleet.runProgram(
                    try TestFleet.builtProduct("fleetup"),
                    ["lock"] + args + [book, "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "--state-dir", state])
            }
            // The run's side: the same key and lock host the command works out (host01, first of the plan).
            let key = Self.key(book, fleet)
            let executor = try SSHExecutor(fleet.sshConfiguration())
            let lock = FleetLock(
                store: RunStore(root: state), key: key, remote: RemoteLock(host: fleet.inventoryHosts[0], key: key, executor: executor))
            let holder = Self.owner("20261202-031501-3f2a", key)
            _ = try await lock.acquire(holder)
            // ...and the host lock of host02, which it is upgrading.
            #expect(await HostLocks(owner: holder, executor: executor).acquire(fleet.inventoryHosts[1]) == .acquired(note: nil))
            await executor.shutdown()

            let held = try await fleetup(["status"])
            #expect(held.status == 1, "stderr: \(held.stderr)")
            #expect(
                held.stdout == """
                    fleet \(key.label) (key \(key.hex))
                      local \(state)/locks/\(key.hex).json: held by \(holder)
                      lock host host01:~/.local/state/fleetup/locks/\(key.hex)/owner.json: held by \(holder)
                      host lock host02: held by \(holder)

                    """)
            // --json: the same facts for a program (fleetup.lock/1).
            let heldJSON = try await fleetup(["status", "--json"])
            #expect(heldJSON.status == 1)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(heldJSON.stdout.utf8)) as? [String: Any])
            #expect(doc["schema"] as? String == "fleetup.lock/1" && doc["key"] as? String == key.hex)
            #expect((doc["local"] as? [String: Any])?["free"] as? Bool == false)
            #expect((doc["lock_host"] as? [String: Any])?["state"] as? String == "held by \(holder)")
            let hostLocks = try #require(doc["host_locks"] as? [String: Any])
            #expect(hostLocks["asked"] as? Int == 2)
            #expect((hostLocks["held"] as? [[String: Any]])?.map { $0["host"] as? String } == ["host02"])

            let refused = try await fleetup(["release"])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("lock release needs --force: it removes the fleet's lock whoever holds it"))
            #expect(FileManager.default.fileExists(atPath: Self.remoteFile(fleet, key)))

            let forced = try await fleetup(["release", "--force"])
            #expect(forced.status == 0, "stderr: \(forced.stderr)")
            #expect(
                forced.stdout.contains(
                    "  local: was held by \(holder)\n  lock host host01: was held by \(holder)\n  host lock host02: was held by \(holder)\n"
                ))
            #expect(
                try String(contentsOfFile: state + "/locks/released.log", encoding: .utf8).hasSuffix(
                    "; host locks: host02 held by \(holder)\n"))
            #expect(!FileManager.default.fileExists(atPath: fleet.hosts[1].root + "/home/.local/state/fleetup/host.lock/owner.json"))

            let free = try await fleetup(["status"])
            #expect(free.status == 0, "stderr: \(free.stderr)")
            #expect(free.stdout.hasSuffix("\n  host locks: none held (2 hosts)\n"))
            #expect(free.stdout.components(separatedBy: ": free\n").count == 3)

            // A lock host that cannot be asked is neither free nor held: exit 3, saying why.
            fleet.stopSSH(on: fleet.hosts[0])
            let unasked = try await fleetup(["status"])
            #expect(unasked.status == 3)
            #expect(unasked.stdout.contains("owner.json: not asked: lock host host01: unreachable: "))
        }
    }
}
