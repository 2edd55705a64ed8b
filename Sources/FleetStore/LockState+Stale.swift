extension LockState {
    /// A fleet lock's state as `fleetup lock status` shows it: a lock whose owner ran on this
    /// machine and whose pid is gone is `stale` (the next run takes it over), not `held`.
    ///
    /// Only the words change: the state itself (and `isFree`, the exit status) is the same.
    /// `isStale` is `LockOwner.isStale()` unless a test decides.
    public func statusText(isStale: (LockOwner) -> Bool = { $0.isStale() }) -> String {
        guard case .held(let owner) = self, isStale(owner) else { return description }
        return "stale (pid \(owner.pid) is gone on this machine): \(owner); the next run takes it over"
    }
}

extension LockState {
    /// A host lock's state as `fleetup lock status` shows it. A host lock is never taken
    /// over by another run (only by its own run's resume: `HostLocks`), so an owner whose pid
    /// is gone here left the host mid-upgrade, and the words say what to do then.
    public func hostLockStatusText(isStale: (LockOwner) -> Bool = { $0.isStale() }) -> String {
        guard case .held(let owner) = self, isStale(owner) else { return description }
        return "left mid-upgrade (pid \(owner.pid) is gone on this machine): \(owner); only `fleetup resume \(owner.runID)` "
            + "takes it over (or `fleetup lock release --force` once you checked the host)"
    }
}
