import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a lock looks like from outside.
public enum LockState: Sendable, Hashable, CustomStringConvertible {
    case free
    case held(LockOwner)
    /// The lock exists but its owner cannot be read; the text says why.
    case unreadable(String)

    public var owner: LockOwner? {
        if case .held(let o) = self { return o }
        return nil
    }

    public var isFree: Bool { self == .free }

    public var description: String {
        switch self {
        case .free: return "free"
        case .held(let owner): return "held by \(owner)"
        case .unreadable(let problem): return "held, owner unreadable (\(problem))"
        }
    }
}

/// The fleet's lock on this machine: `<state>/locks/<key>.json`, holding the owner's JSON.
///
/// Every change (take, take over, release) happens under an flock(2) of
/// `<state>/locks/<key>.guard`, held for the few system calls it takes: a second fleetup on
/// this machine never reads a lock file half written, and two of them can never both take
/// over the same stale lock. The lock file itself is created with O_CREAT|O_EXCL, written
/// and flushed before the guard is let go.
///
/// Stale: the owner ran on this machine and its pid is gone (kill(pid, 0) says ESRCH), or
/// the file is empty (a fleetup that died while writing it). A stale lock is taken over,
/// and `acquire` returns a note saying whose it was.
public struct LocalLock: Sendable, Hashable {
    public let path: String
    let guardPath: String
    let folder: String

    public init(store: RunStore, key: FleetKey) {
        folder = store.locksFolder
        path = folder + "/" + key.hex + ".json"
        guardPath = folder + "/" + key.hex + ".guard"
    }

    /// Takes the lock for `owner`; returns a note when it took over a stale one. Throws
    /// `LockError.held` when another run holds it.
    @discardableResult
    @inline(never)  // see FleetLock.giveBackLocal: keeps the 6.3.1 optimizer from crashing
    public func acquire(_ owner: LockOwner) throws -> String? {
        try withGuard {
            if try create(owner) { return nil }
            let note: String
            switch try state() {
            case .free:
                note = ""  // released between our attempt and the read: cannot happen under the guard
            case .held(let holder):
                guard holder.isStale() else { throw LockError.held(holder) }
                note = "took over the stale local lock of \(holder): that process is gone"
            case .unreadable(let problem):
                guard problem == Self.emptyFile else { throw LockError.unreadable(place: path, problem: problem) }
                note = "took over an empty local lock (a fleetup that died while taking it)"
            }
            try Posix.remove(path)
            guard try create(owner) else { throw LockError.local(path: path, reason: "the lock file came back while the guard was held") }
            return note.isEmpty ? nil : note
        }
    }

    /// Who holds the lock now.
    @inline(never)  // see FleetLock.giveBackLocal: keeps the 6.3.1 optimizer from crashing
    public func holder() throws -> LockState {
        try state()
    }

    /// Removes the lock if it still holds run `runID`; returns whether it did. A lock that
    /// another run took over (or that was force-released) is left alone.
    @discardableResult
    @inline(never)  // see FleetLock.giveBackLocal: keeps the 6.3.1 optimizer from crashing
    public func release(_ runID: String) throws -> Bool {
        try withGuard {
            guard case .held(let holder) = try state(), holder.runID == runID else { return false }
            try Posix.remove(path)
            try Posix.syncFolder(folder)
            return true
        }
    }

    /// Removes the lock whoever holds it; returns what it held.
    @inline(never)  // see FleetLock.giveBackLocal: keeps the 6.3.1 optimizer from crashing
    public func forceRelease() throws -> LockState {
        try withGuard {
            let previous = try state()
            if try Posix.remove(path) { try Posix.syncFolder(folder) }
            return previous
        }
    }

    static let emptyFile = "the lock file is empty"

    private func state() throws -> LockState {
        // An owner record is a few hundred bytes; 1 MB is plenty and bounds a hostile one.
        guard let bytes = try Posix.read(path, limit: 1 << 20) else { return .free }
        if bytes.isEmpty { return .unreadable(Self.emptyFile) }
        do {
            return .held(try LockOwner.parse(String(decoding: bytes, as: UTF8.self)))
        } catch {
            return .unreadable("expected the owner as JSON: \(JournalFormat.describe(error))")
        }
    }

    /// Creates the lock file with the owner in it; false when it exists.
    private func create(_ owner: LockOwner) throws -> Bool {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, Posix.fileMode)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw LockError.local(path: path, reason: "cannot create the lock file: \(Posix.errnoText())")
        }
        do {
            defer { Glibc.close(fd) }
            _ = fchmod(fd, Posix.fileMode)
            try Posix.writeAll(fd, Array((owner.json() + "\n").utf8), path: path)
            try Posix.sync(fd, path: path)
        } catch {
            _ = unlink(path)
            throw error
        }
        try Posix.syncFolder(folder)
        return true
    }

    @inline(never)
    private func withGuard<T>(_ body: () throws -> T) throws -> T {
        try Posix.makeFolders(folder)
        let fd = try Posix.open(guardPath, O_RDWR | O_CREAT, what: "cannot open the lock's guard file")
        defer { Glibc.close(fd) }  // closing lets the flock go
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw LockError.local(path: guardPath, reason: "cannot flock the guard file: \(Posix.errnoText())") }
        }
        return try body()
    }
}
