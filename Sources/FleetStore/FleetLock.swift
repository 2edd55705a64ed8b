import FleetCore
import Foundation

/// One run at a time per fleet: the local lock (this machine) and, when a lock host is
/// given, the remote lock on it (every machine that reaches the lock host).
///
/// `fleetup run` takes it before the first action and releases it at the end, whatever the
/// outcome (a failed release is reported, never silently ignored: the next run would find
/// the lock held). The lock host is chosen by `LockHost.choose`.
public struct FleetLock: Sendable {
    public let store: RunStore
    public let key: FleetKey
    public let local: LocalLock
    public let remote: RemoteLock?

    public init(store: RunStore, key: FleetKey, remote: RemoteLock? = nil) {
        self.store = store
        self.key = key
        self.local = LocalLock(store: store, key: key)
        self.remote = remote
    }

    /// `<state>/locks/released.log`: one line per force release.
    public var releasedLog: String { store.locksFolder + "/released.log" }

    /// Takes the local lock, then the remote one; returns notes to print (stale locks taken
    /// over). When the remote lock cannot be taken, the local one is given back before the
    /// error is thrown.
    public func acquire(_ owner: LockOwner) async throws -> [String] {
        var notes: [String] = []
        if let note = try local.acquire(owner) { notes.append(note) }
        guard let remote else { return notes }
        do {
            if let note = try await remote.acquire(owner) { notes.append(note) }
        } catch {
            giveBackLocal(owner.runID)
            throw error
        }
        return notes
    }

    /// Releases the local lock, ignoring a failure (the remote one already failed).
    /// Not inlined: Swift 6.3.1's release build crashes (CoroSplit, swifterror) on a
    /// `try?` of a throwing call inside the catch of this async function.
    @inline(never)
    private func giveBackLocal(_ runID: String) {
        do { _ = try local.release(runID) } catch {}
    }

    /// Releases both locks if they still hold run `runID` (remote first, so that a crash in
    /// between leaves the local lock, which a later run on this machine sees as stale). The
    /// local lock is released even when the remote release fails; that error is rethrown.
    public func release(_ runID: String) async throws {
        var remoteError: Error?
        if let remote {
            do { try await remote.release(runID) } catch { remoteError = error }
        }
        try local.release(runID)
        if let remoteError { throw remoteError }
    }

    /// Who holds the lock, here and on the lock host.
    public struct Status: Sendable {
        public var local: LockState
        /// Nil without a lock host.
        public var remote: LockState?
        /// Why the lock host could not be asked.
        public var remoteError: LockError?

        /// True when neither lock is held (an unanswered lock host is not free).
        public var isFree: Bool { local.isFree && (remote?.isFree ?? (remoteError == nil)) }
    }

    public func status() async -> Status {
        var s = Status(local: .free, remote: nil, remoteError: nil)
        do { s.local = try local.holder() } catch { s.local = .unreadable("\(error)") }
        if let remote {
            do { s.remote = try await remote.holder() } catch let e as LockError { s.remoteError = e } catch {
                s.remoteError = .remote(host: remote.host.name, reason: "\(error)")
            }
        }
        return s
    }

    /// What a force release removed, and the line recorded in `released.log`.
    public struct ForceRelease: Sendable {
        public var local: LockState
        public var remote: LockState?
        /// The lock host could not be reached: its lock may still be held.
        public var remoteError: LockError?
        public var record: String
    }

    /// Removes the local and the remote lock whoever holds them, and appends a line to
    /// `released.log`: when, who (`by`, default user@machine and pid), the fleet and what each
    /// lock held (`also`: what else was released, the host locks). A lock host that cannot be reached does not stop the local release; it is
    /// in the result and the record.
    public func forceRelease(by who: String? = nil, now: Date = Date(), also: String? = nil) async throws -> ForceRelease {
        let previousLocal = try local.forceRelease()
        var previousRemote: LockState?
        var remoteError: LockError?
        if let remote {
            do { previousRemote = try await remote.forceRelease() } catch let e as LockError { remoteError = e } catch {
                remoteError = .remote(host: remote.host.name, reason: "\(error)")
            }
        }
        let by = who ?? "\(Posix.userName)@\(Posix.machineName) (pid \(getpid()))"
        var line = "\(Timestamp.text(now)) \(by) force-released fleet \(key.label) (key \(key.hex)): local \(previousLocal)"
        if let remote {
            line += "; lock host \(remote.host.name) " + (remoteError.map { "not reached (\($0))" } ?? "\(previousRemote ?? .free)")
        }
        if let also { line += "; " + also }
        try Posix.makeFolders(store.locksFolder)
        try Posix.appendLine(line, to: releasedLog)
        return ForceRelease(local: previousLocal, remote: previousRemote, remoteError: remoteError, record: line)
    }
}
