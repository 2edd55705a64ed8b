import FleetCore
import FleetSSH
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup lock status` on locks left by a run whose process is gone (issue 18, point 5): it
/// said `held`; the next run takes such a lock over, so it says `stale`.
@Suite("fleetup lock status on stale locks")
struct LockStatusStaleTests {
    @Test("a lock of this machine whose pid is gone is stale, here and on the lock host (exit 1: still there)")
    func stale() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let book = try LockTests.playbook(in: fleet)
            let state = fleet.directory + "/state"
            let key = LockTests.key(book, fleet)
            // A pid that was this machine's and is gone: a shell that printed its own and ended.
            let shell = try await TestFleet.runProgram("/bin/sh", ["-c", "echo $$"])
            let pid = try #require(Int32(shell.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            var dead = LockTests.owner("20261202-031501-3f2a", key)
            dead.pid = pid
            let executor = try SSHExecutor(fleet.sshConfiguration())
            let lock = FleetLock(
                store: RunStore(root: state), key: key,
                remote: RemoteLock(host: fleet.inventoryHosts[0], key: key, executor: executor))
            _ = try await lock.acquire(dead)
            await executor.shutdown()

            let status = try await TestFleet.runProgram(
                try TestFleet.builtProduct("fleetup"),
                ["lock", "status", book, "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "--state-dir", state])
            let stale = "stale (pid \(pid) is gone on this machine): \(dead); the next run takes it over"
            #expect(
                status.stdout == """
                    fleet \(key.label) (key \(key.hex))
                      local \(state)/locks/\(key.hex).json: \(stale)
                      lock host host01:~/.local/state/fleetup/locks/\(key.hex)/owner.json: \(stale)
                      host locks: none held (1 host)

                    """, "stderr: \(status.stderr)")
            // The lock files are still there until a run takes them over: not free.
            #expect(status.status == 1)
        }
    }
}
