import FleetCore
import Foundation
import Testing

@testable import FleetStore

/// `fleetup lock status` says `stale` for a lock the next run would take over (its owner ran
/// here and its pid is gone), where it said `held`.
@Suite("lock status words")
struct LockStatusTextTests {
    @Test("held, stale or free, as the next run would judge the owner")
    func words() throws {
        let dead = owner("20261202-031501-3f2a", pid: try reapedPid())
        let text = "run 20261202-031501-3f2a (\(dead.user)@\(Posix.machineName), pid \(dead.pid), since 2026-12-02T03:15:01Z)"
        // This machine, pid gone: stale, as LocalLock.acquire treats it.
        #expect(LockState.held(dead).statusText() == "stale (pid \(dead.pid) is gone on this machine): \(text); the next run takes it over")
        // Another machine's owner is never judged from here, whatever its pid.
        let elsewhere = owner("20261202-031501-3f2a", machine: "ops-elsewhere", pid: dead.pid)
        #expect(LockState.held(elsewhere).statusText() == "held by \(elsewhere)")
        // This process: alive.
        let alive = owner("20261202-031501-3f2a")
        #expect(LockState.held(alive).statusText() == "held by \(alive)")
        #expect(LockState.free.statusText() == "free")
        #expect(LockState.unreadable("the lock file is empty").statusText() == "held, owner unreadable (the lock file is empty)")
    }

    @Test("a host lock whose run is gone: left mid-upgrade, for its own resume only (no run takes it over)")
    func hostLockWords() throws {
        let dead = owner("20261202-031501-3f2a", pid: try reapedPid())
        let text = "run 20261202-031501-3f2a (\(dead.user)@\(Posix.machineName), pid \(dead.pid), since 2026-12-02T03:15:01Z)"
        #expect(
            LockState.held(dead).hostLockStatusText()
                == "left mid-upgrade (pid \(dead.pid) is gone on this machine): \(text); only `fleetup resume 20261202-031501-3f2a` "
                + "takes it over (or `fleetup lock release --force` once you checked the host)")
        let alive = owner("20261202-031501-3f2a")
        #expect(LockState.held(alive).hostLockStatusText() == "held by \(alive)")
        #expect(LockState.free.hostLockStatusText() == "free")
    }
}
