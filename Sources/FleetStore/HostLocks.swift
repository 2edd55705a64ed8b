import FleetCore

/// One upgrader per host: the lock a run holds on each host while it works on it
/// (docs/runs.md, "Host locks"), kept on the host itself so that runs from other playbook
/// paths, other machines and other operators meet it too. A `RemoteLock` in the host's
/// `~/.local/state/fleetup/host.lock/` (or the folder its `fleetup_host_lock_dir` names),
/// owned by the run. A run keeps it while the host's upgrade is unfinished (mid-hop, failed
/// past a step, stopped), so it means "this host belongs to run R until R is done with it":
/// only R itself takes it over (a resume holds the fleet's lock, so R's earlier part is
/// gone); every other run is refused, even when R's process is gone — that host's state is
/// in R's journal, and a new run would only see its version.
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
            return .acquired(note: try await lock(host).acquire(owner, sameRun: true, staleTakeover: false, transportErrors: true))
        } catch let e as RemoteError {
            return .failed(e)
        } catch LockError.held(let holder) {
            return .refused(Self.refusal(holder, machine: owner.machine))
        } catch LockError.unreadable(let place, let problem) {
            return .refused(
                "the host is locked, but its lock's owner cannot be read (\(place): \(problem)); nothing ran on it "
                    + "(`fleetup lock release --force` removes it once you checked that no run is upgrading the host)")
        } catch {
            return .failed(RemoteError(.channelFailed, host: host.name, "\(error)"))
        }
    }

    /// Why a host another run holds is not touched, and what to do.
    static func refusal(_ holder: LockOwner, machine: String) -> String {
        if holder.isStale(onMachine: machine) {
            return "run \(holder.runID) left this host mid-upgrade (\(holder.user)@\(holder.machine), pid \(holder.pid) is gone): "
                + "nothing ran on it; `fleetup resume \(holder.runID)` goes on from its last step (or `fleetup lock release --force` once you checked the host)"
        }
        return "the host is locked by \(holder): another run is upgrading it, or left it mid-upgrade; nothing ran on it"
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
