extension LockState {
    /// The state as `fleetup lock status` shows it: a lock whose owner ran on this machine
    /// and whose pid is gone is `stale` (the next run takes it over), not `held`.
    ///
    /// Only the words change: the state itself (and `isFree`, the exit status) is the same.
    /// `isStale` is `LockOwner.isStale()` unless a test decides.
    public func statusText(isStale: (LockOwner) -> Bool = { $0.isStale() }) -> String {
        guard case .held(let owner) = self, isStale(owner) else { return description }
        return "stale (pid \(owner.pid) is gone on this machine): \(owner); the next run takes it over"
    }
}
