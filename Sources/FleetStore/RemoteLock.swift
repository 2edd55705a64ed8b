import FleetCore

/// A lock on a host, taken and given back over SSH: a fleet's lock on its lock host (so
/// that two operators on two machines exclude each other), or a host's own lock (one
/// upgrader per host, `HostLocks`). The protocol is `RemoteLockProtocol`; this runs it
/// through a `RemoteExecutor`.
///
/// Stale: the remote owner names the same machine as the new owner and its pid is gone on
/// this machine. (Callers take the local lock first, so no other fleetup on this machine is
/// taking over the same lock at the same time.)
public struct RemoteLock: Sendable {
    public let host: Host
    public let lockPlace: RemoteLockPlace
    public let executor: any RemoteExecutor

    /// A fleet's lock on its lock host.
    public init(host: Host, key: FleetKey, executor: any RemoteExecutor) {
        self.init(host: host, place: .fleet(key.hex), executor: executor)
    }

    public init(host: Host, place: RemoteLockPlace, executor: any RemoteExecutor) {
        self.host = host
        self.lockPlace = place
        self.executor = executor
    }

    /// Where the lock lives, for messages: `host01:~/.local/state/fleetup/locks/<key>/owner.json`.
    public var place: String { "\(host.name):\(lockPlace.display)/owner.json" }

    /// Takes the lock for `owner`; returns a note when it took over a stale one (unless
    /// `staleTakeover` is off) or, with `sameRun`, one its own run held in an earlier part (a
    /// resume). Throws
    /// `LockError.held` when another run holds it, `.remote` when the host cannot be asked
    /// (with `transportErrors`, the executor's `RemoteError` as it is).
    @discardableResult
    public func acquire(
        _ owner: LockOwner, sameRun: Bool = false, staleTakeover: Bool = true,
        transportErrors: Bool = false
    ) async throws -> String? {
        // Twice at most: a holder that released between our two commands leaves it free.
        for _ in 0..<2 {
            switch try await ask(RemoteLockProtocol.acquire(in: lockPlace, owner: owner), transportErrors: transportErrors) {
            case .acquired:
                return nil
            case .held(.held(let holder))
            where (staleTakeover && holder.isStale(onMachine: owner.machine)) || (sameRun && holder.runID == owner.runID):
                let takeOver = RemoteLockProtocol.takeOver(in: lockPlace, staleRunID: holder.runID, owner: owner)
                switch try await ask(takeOver, transportErrors: transportErrors) {
                case .acquired:
                    if holder.runID == owner.runID && holder.machine == owner.machine && holder.pid == owner.pid { return nil }
                    let why = holder.runID == owner.runID ? "an earlier part of this run" : "that process is gone"
                    return "took over the stale lock on \(host.name) of \(holder): \(why)"
                case .held(let state): throw Self.error(state, place: place)
                case .free, .released: continue
                }
            case .held(let state):
                throw Self.error(state, place: place)
            case .free, .released:
                continue
            }
        }
        throw LockError.remote(host: host.name, reason: "the lock changed hands twice while it was being taken; try again")
    }

    /// Who holds the lock on the lock host.
    public func holder() async throws -> LockState {
        switch try await ask(RemoteLockProtocol.status(in: lockPlace)) {
        case .held(let state): return state
        case .free, .acquired, .released: return .free
        }
    }

    /// Removes the lock if it still holds run `runID`; returns whether it did.
    @discardableResult
    public func release(_ runID: String) async throws -> Bool {
        if case .released = try await ask(RemoteLockProtocol.release(in: lockPlace, runID: runID), readOwner: false) { return true }
        return false
    }

    /// Removes the lock whoever holds it; returns what it held.
    public func forceRelease() async throws -> LockState {
        if case .released(let previous) = try await ask(RemoteLockProtocol.forceRelease(in: lockPlace)) { return previous }
        return .free
    }

    private func ask(
        _ command: RemoteCommand, transportErrors: Bool = false, readOwner: Bool = true
    ) async throws -> RemoteLockProtocol.Reply {
        let result: CommandResult
        do {
            result = try await executor.run(command, on: host)
        } catch let e as RemoteError {
            if transportErrors { throw e }
            throw LockError.remote(host: host.name, reason: "\(e.kind.rawValue): \(e.message)")
        }
        return try RemoteLockProtocol.parse(result, host: host.name, readOwner: readOwner)
    }

    static func error(_ state: LockState, place: String) -> LockError {
        switch state {
        case .held(let owner): return .held(owner)
        case .unreadable(let problem): return .unreadable(place: place, problem: problem)
        case .free: return .remote(host: place, reason: "the lock is free but could not be taken")
        }
    }
}

/// Which host keeps a fleet's remote lock.
///
/// Rule: the host named by the inventory variable `fleetup_lock_host` (as the first planned
/// host sees it; usually set under `all: vars`), else the first host of the run's plan
/// (the first host of its first stage). The plan must be the one of the WHOLE inventory,
/// without `--limit`: runs of the same fleet with different limits must pick the same host.
public enum LockHost {
    public static let variable = "fleetup_lock_host"

    /// The lock host for a plan whose hosts, in plan order, are `planned`; nil when the plan
    /// has no hosts. Throws `LockError.badLockHost` when the variable names no inventory host.
    public static func choose(planned: [Host], inventory: Inventory) throws -> Host? {
        guard let first = planned.first else { return nil }
        if let value = first.vars[variable]?.scalarText, !value.isEmpty {
            guard let host = inventory.host(named: value) else { throw LockError.badLockHost(value) }
            return host
        }
        return first
    }
}
