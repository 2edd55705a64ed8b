import FleetCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Appends entries to a run's journal (`journal.jsonl`), one JSON line each, durably: when
/// `append` returns, the line is on disk, so a `kill -9` (or a crash of the machine) after
/// it loses nothing. The format and the torn-tail rule are in `JournalFormat`.
///
/// Safe to share between tasks: appends are serialised by a mutex around the descriptor,
/// and each line goes out in one write(2) on an O_APPEND descriptor, so lines never
/// interleave. `append` blocks for the fdatasync (a few milliseconds on a local disk).
///
/// The journal holds exactly what it is given: secrets must be redacted by the caller.
public final class JournalWriter: Sendable {
    public let path: String
    /// Bytes of a torn last line that opening cut off (0 when the journal ended cleanly).
    public let repairedBytes: Int
    /// The descriptor; -1 once closed.
    private let fd: Mutex<Int32>
    /// Room given back when the disk is full (`JournalReserve`); nil: none.
    public let reserve: JournalReserve?
    private let degraded = Mutex<String?>(nil)

    /// Opens (creating with mode 0600) the journal at `path` for appending. An existing
    /// journal whose last line is torn is first truncated to its whole lines (and that is
    /// flushed), so the next line starts cleanly.
    public init(path: String, reserve: JournalReserve? = nil) throws {
        self.path = path
        self.reserve = reserve
        let created = !FileManager.default.fileExists(atPath: path)
        let fd = try Posix.open(path, O_RDWR | O_APPEND | O_CREAT, what: "cannot open the journal")
        do {
            repairedBytes = try Self.cutTornTail(fd, path: path)
            if created { try Posix.syncFolder((path as NSString).deletingLastPathComponent) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fd = Mutex(fd)
    }

    deinit {
        fd.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
        }
    }

    /// Writes `entry` as one line and flushes it to disk before returning.
    ///
    /// If the write is short (disk full), the partial line is cut off again, so the journal
    /// only ever holds whole lines; the error says so.
    public func append<Entry: Encodable>(_ entry: Entry) throws {
        try write(entry)
        try sync()
    }

    /// Writes `entry` as one line WITHOUT waiting for the disk (`sync` does): for group
    /// commit, where one fdatasync makes many lines durable (`GroupCommitJournal`).
    ///
    /// A disk found full is retried once after the reserve is given back; from then on
    /// `degradation` says so (the run must drain).
    public func write<Entry: Encodable>(_ entry: Entry) throws {
        try write(line: try JournalFormat.line(entry, path: path))
    }

    /// Writes an entry whose event `prepare` encoded: the same line as `write(entry)`.
    public func write(_ entry: JournalEntry, event: [UInt8]) throws {
        try write(line: try JournalFormat.line(seq: entry.seq, time: entry.time, event: event, path: path))
    }

    /// The event's JSON, as `write(_:event:)` takes it.
    public func prepare(_ event: RunEvent) throws -> [UInt8] {
        try JournalFormat.eventJSON(event, path: path)
    }

    private func write(line: [UInt8]) throws {
        let path = self.path
        let reserve = self.reserve
        try fd.withLock { fd throws(StoreError) in
            guard fd >= 0 else { throw StoreError(.io, path: path, "the journal is closed") }
            var (code, written) = Self.writeLine(fd, line)
            if code != 0, JournalReserve.isFull(code), reserve?.free() == true {
                try Self.cut(fd, written, path: path)
                self.degraded.withLock { $0 = Posix.errnoText(code).lowercased() }
                (code, written) = Self.writeLine(fd, line)
            }
            if code != 0 {
                try Self.cut(fd, written, path: path)
                throw StoreError(
                    .io, path: path, "cannot append to the journal: \(Posix.errnoText(code)) (the journal holds whole lines only)")
            }
        }
    }

    /// Cuts off the `written` bytes a failed write left at the end (the journal's size is
    /// read only then: an fstat before every line was 1.6 % of a 5,000-host run's CPU).
    private static func cut(_ fd: Int32, _ written: Int, path: String) throws(StoreError) {
        guard written > 0 else { return }
        var now = stat()
        guard fstat(fd, &now) == 0 else { throw Posix.failure("cannot stat the journal", path) }
        _ = ftruncate(fd, now.st_size - off_t(written))
    }

    /// Writes the whole line (a short write goes on with the rest, to learn why it stopped):
    /// 0 and the line's length, or the errno of the write that failed and the bytes written.
    private static func writeLine(_ fd: Int32, _ line: [UInt8]) -> (code: Int32, written: Int) {
        var n = Posix.writeOnce(fd, line)
        var written = max(n, 0)
        while n > 0 && written < line.count {
            n = Posix.writeOnce(fd, Array(line[written...]))
            written += max(n, 0)
        }
        if written == line.count { return (0, written) }
        return (n < 0 ? errno : EIO, written)
    }

    /// Why the journal writes into its reserve (its disk was found full), once it does.
    public var degradation: String? { degraded.withLock { $0 } }

    /// Flushes every line written so far to disk (fdatasync).
    public func sync() throws {
        let path = self.path
        let fd = self.fd.withLock { $0 }
        guard fd >= 0 else { throw StoreError(.io, path: path, "the journal is closed") }
        try Posix.sync(fd, path: path)
    }

    /// Closes the journal (idempotent) and gives its reserve back; later appends throw.
    public func close() {
        fd.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
        _ = reserve?.free()
    }

    /// Truncates a torn tail; returns how many bytes were cut.
    private static func cutTornTail(_ fd: Int32, path: String) throws(StoreError) -> Int {
        guard let bytes = try Posix.read(path, limit: JournalReader.maxBytes), !bytes.isEmpty else { return 0 }
        let whole = JournalFormat.wholeLength(bytes)
        guard whole < bytes.count else { return 0 }
        guard ftruncate(fd, off_t(whole)) == 0 else { throw Posix.failure("cannot cut the torn last line of the journal", path) }
        try Posix.sync(fd, path: path)
        return bytes.count - whole
    }
}

/// Reads a journal back (for `fleetup resume` and reports).
public enum JournalReader {
    /// The largest journal read back (docs/runs.md): a run of 10,000 hosts writes a few
    /// hundred MB at most, and a journal is read whole.
    public static let maxBytes = 1 << 30

    /// A journal's entries, in the order they were appended.
    public struct Contents<Entry> {
        public var entries: [Entry]
        /// True when a torn last line (what a crash during a write leaves) was left out.
        public var droppedTornLine: Bool

        public init(entries: [Entry], droppedTornLine: Bool) {
            self.entries = entries
            self.droppedTornLine = droppedTornLine
        }
    }

    /// Every whole line of the journal at `path`, decoded as `Entry`. A torn last line is
    /// dropped (and said so); any other line that is not an `Entry` is an error naming
    /// `path:line` and what was expected (the first such line). A missing journal is an error.
    ///
    /// Lines are decoded on every core, in runs of consecutive lines, and a run's common events
    /// by hand (`JournalLineDecoder`): decoding is most of the cost of `fleetup report` of a
    /// large run (130,013 lines for 5,000 hosts).
    public static func read<Entry: Decodable & Sendable>(_ path: String, as type: Entry.Type) throws -> Contents<Entry> {
        guard let bytes = try Posix.read(path, limit: maxBytes) else {
            throw StoreError(.io, path: path, "no journal: the file does not exist")
        }
        let whole = JournalFormat.wholeLength(bytes)
        let lines = lineRanges(bytes[..<whole])
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, lines.count / linesPerPart))
        let decoded = Mutex([[Entry]](repeating: [], count: parts))
        let failed = Mutex<(line: Int, error: StoreError)?>(nil)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let decoder = JournalFormat.decoder()
            var entries: [Entry] = []
            let mine = (lines.count * part / parts)..<(lines.count * (part + 1) / parts)
            entries.reserveCapacity(mine.count)
            let byHand = Entry.self == JournalEntry.self
            for i in mine {
                // The events a large journal is made of are read by hand; the rest, and every
                // line the hand decoder is unsure of, by JSONDecoder (`JournalLineDecoder`).
                if byHand, let entry = bytes.withUnsafeBytes({ JournalLineDecoder.entry(UnsafeRawBufferPointer(rebasing: $0[lines[i]])) }) {
                    entries.append(entry as! Entry)
                    continue
                }
                let data = Data(bytes[lines[i]])
                do {
                    entries.append(try decoder.decode(Entry.self, from: data))
                } catch {
                    let problem = StoreError(
                        .corruptJournal, path: path, line: i + 1,
                        "expected a journal entry (\(Entry.self)), one JSON object per line: \(Self.problem(error, in: data))")
                    // The first bad line of the journal is the one said, whichever part finds it first.
                    failed.withLock { if i + 1 < $0?.line ?? Int.max { $0 = (i + 1, problem) } }
                    return
                }
            }
            decoded.withLock { $0[part] = entries }
        }
        if let first = failed.withLock({ $0 }) { throw first.error }
        // Each part is let go of once moved, so the entries are held twice only a part at a time.
        var entries: [Entry] = []
        entries.reserveCapacity(lines.count)
        decoded.withLock { parts in
            for p in parts.indices {
                entries += parts[p]
                parts[p] = []
            }
        }
        return Contents(entries: entries, droppedTornLine: whole < bytes.count)
    }

    /// Where each line of `bytes` (whole lines, each ended by a newline) is, newline left out.
    static func lineRanges(_ bytes: ArraySlice<UInt8>) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: JournalFormat.newline)!
            lines.append(start..<end)
            start = end + 1
        }
        return lines
    }

    /// Lines below which a journal is decoded on one core only (threads cost more than they save).
    static let linesPerPart = 4096

    /// What is wrong with a line the decoder refused.
    static func problem(_ error: any Error, in data: Data) -> String {
        // Foundation says "not valid JSON" for valid JSON holding a number too large for its
        // field (an edited journal): say what it is.
        let problem = JournalFormat.describe(error)
        if problem == "not valid JSON", (try? JSONSerialization.jsonObject(with: data)) != nil {
            return "a number does not fit its field"
        }
        return problem
    }
}

extension JournalReader.Contents: Sendable where Entry: Sendable {}
extension JournalReader.Contents: Equatable where Entry: Equatable {}
