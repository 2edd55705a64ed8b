import FleetCore

/// One upgrader per host: the lock a run holds on each host while it works on it
/// (docs/runs.md, "Host locks"), kept on the host itself so that runs from other playbook
/// paths, other machines and other operators meet it too. A `RemoteLock` in the host's
/// `~/.local/state/fleetup/host.lock/` (or the folder its `fleetup_host_lock_dir` names),
/// owned by the run; stale when its owner ran on this machine and is gone, and taken over
/// by the same run (a resume holds the fleet's lock, so the earlier part is gone).
public struct HostLocks: HostLocking {
    /// The inventory variable naming the lock's folder on a host.
    public static let variable = "fleetup_host_lock_dir"

    public let owner: LockOwner
    public let executor: any RemoteExecutor

    public init(owner: LockOwner, executor: any RemoteExecutor) {
        self.owner = owner
        self.executor = executor
    }

    /// The lock of `host`.
    public func lock(_ host: Host) -> RemoteLock {
        RemoteLock(host: host, place: .host(folder: host.vars[Self.variable]?.scalarText), executor: executor)
    }

    public func acquire(_ host: Host) async -> HostLockOutcome {
        do {
            return .acquired(note: try await lock(host).acquire(owner, sameRun: true, transportErrors: true))
        } catch let e as RemoteError {
            return .failed(e)
        } catch LockError.held(let holder) {
            return .held(by: "\(holder)")
        } catch LockError.unreadable(let place, let problem) {
            return .held(by: "an owner that cannot be read (\(place): \(problem); `fleetup lock release --force` removes it if no run is going)")
        } catch {
            return .failed(RemoteError(.channelFailed, host: host.name, "\(error)"))
        }
    }

    public func release(_ host: Host) async -> String? {
        do {
            try await lock(host).release(owner.runID)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
