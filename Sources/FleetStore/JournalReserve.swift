import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Room kept for the end of a run: a file of preallocated blocks beside the journal
/// (`journal.reserve`), given back to the filesystem the moment a journal write finds the
/// disk full. The write is then retried into that room, so a full disk does not stop hosts
/// mid-step: the run drains (nothing new starts) and every step the hosts in flight still
/// run is journaled before it starts (docs/runs.md, "A full disk").
///
/// Sizing: a host in flight journals about two lines per step (a few hundred bytes each, up
/// to ~10 KB with output tails), so 256 KiB per fork covers a long hop; at least 1 MiB, at
/// most 64 MiB. `FLEETUP_JOURNAL_RESERVE` (bytes; 0: none) overrides it.
public final class JournalReserve: Sendable {
    public let path: String
    public let bytes: Int
    private let freed = Mutex(false)

    public static let perFork = 256 << 10
    public static let minimum = 1 << 20
    public static let maximum = 64 << 20

    /// The reserve for a run of `forks` hosts in flight (or `FLEETUP_JOURNAL_RESERVE`).
    public static func size(forks: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let text = environment["FLEETUP_JOURNAL_RESERVE"], let n = Int(text), n >= 0 { return n }
        let (product, overflow) = max(1, forks).multipliedReportingOverflow(by: perFork)
        return overflow ? maximum : min(maximum, max(minimum, product))
    }

    /// Allocates `bytes` at `path` (kept if it is there already: a resume after a kill).
    /// A disk without that much room refuses the run before anything starts.
    public init(path: String, bytes: Int) throws(StoreError) {
        self.path = path
        self.bytes = bytes
        guard bytes > 0 else {
            freed.withLock { $0 = true }
            return
        }
        let fd = try Posix.open(path, O_WRONLY | O_CREAT, what: "cannot create the journal's reserve")
        defer { close(fd) }
        let code = posix_fallocate(fd, 0, off_t(bytes))
        if code != 0 {
            _ = unlink(path)
            throw StoreError(
                .io, path: path,
                "cannot keep \(bytes >> 10) KiB in reserve for the journal (\(Posix.errnoText(code))): "
                    + "fleetup keeps that room so that a disk that fills up mid-run lets the hosts in flight finish; "
                    + "make room in the state folder (or set FLEETUP_JOURNAL_RESERVE) first")
        }
    }

    /// Gives the room back to the filesystem; true the first time (there was room to give).
    public func free() -> Bool {
        let first = freed.withLock { f -> Bool in
            defer { f = true }
            return !f
        }
        if first { _ = unlink(path) }
        return first
    }

    /// Whether a failed write could fit once the reserve is given back.
    public static func isFull(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }
}
