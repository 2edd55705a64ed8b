import FleetCore
import Foundation

/// The journal's format, shared by the writer and the reader so they agree on what a torn
/// tail is.
///
/// One JSON object per line (keys sorted, no pretty printing, dates as ISO-8601 UTC with
/// milliseconds), each line ended by `\n`. The journal holds exactly what it is given:
/// redacting secrets is the caller's business (pass values whose encoding is redacted).
///
/// **Torn tail.** Each line is written with one write(2), so a crash mid-write can only leave
/// its last line incomplete: bytes after the last `\n`, or a last line that is not JSON at
/// all. That tail is dropped by the reader and cut off by a writer that reopens the journal.
/// A last line that is JSON but not the entry the reader expects is a real line written by
/// someone: it is an error like any other line, never silently dropped.
enum JournalFormat {
    static let newline = UInt8(ascii: "\n")

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.text(date, milliseconds: true))
        }
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an ISO-8601 time, got \"\(text)\"")
            }
            return date
        }
        return d
    }

    /// One entry as its journal line, `\n` included.
    static func line<Entry: Encodable>(_ entry: Entry, path: String) throws(StoreError) -> [UInt8] {
        let data: Data
        do { data = try encoder().encode(entry) } catch {
            throw StoreError(.io, path: path, "cannot encode a journal entry (\(Entry.self)): \(error)")
        }
        // JSONEncoder escapes control characters in strings, so without pretty printing the
        // text holds no newline; the check keeps a future encoder option from splitting lines.
        var line = [UInt8](repeating: newline, count: data.count + 1)
        let oneLine = line.withUnsafeMutableBytes { out in
            data.withUnsafeBytes { bytes in
                out.copyMemory(from: bytes)
                return !hasNewline(bytes)
            }
        }
        guard oneLine else {
            throw StoreError(.io, path: path, "a journal entry (\(Entry.self)) encoded to more than one line")
        }
        return line
    }

    /// An entry's event as the journal's encoder writes it (for `line(seq:time:event:)`):
    /// written by hand (`EventJSON`, the same bytes), the run's header by the encoder.
    static func eventJSON(_ event: RunEvent, path: String) throws(StoreError) -> [UInt8] {
        if let bytes = EventJSON.encode(event) { return bytes }
        do { return Array(try encoder().encode(event)) } catch {
            throw StoreError(.io, path: path, "cannot encode a journal entry (RunEvent): \(error)")
        }
    }

    /// The line of an entry whose event is already encoded: the same bytes as
    /// `line(entry)`, whose sorted keys put `event` before `seq` and `time` (a test holds
    /// them equal for every kind of event).
    static func line(seq: Int, time: WallTime, event: [UInt8], path: String) throws(StoreError) -> [UInt8] {
        guard !event.withUnsafeBytes(hasNewline) else {
            throw StoreError(.io, path: path, "a journal entry (RunEvent) encoded to more than one line")
        }
        var line: [UInt8] = []
        line.reserveCapacity(event.count + 80)
        line.append(contentsOf: #"{"event":"#.utf8)
        line.append(contentsOf: event)
        line.append(contentsOf: #","seq":"#.utf8)
        line.append(contentsOf: String(seq).utf8)
        line.append(contentsOf: #","time":""#.utf8)
        line.append(contentsOf: time.description.utf8)
        line.append(contentsOf: "\"}\n".utf8)
        return line
    }

    /// Whether encoded text would split its line (memchr: Data's own iterator was 2.5 % of
    /// a 5,000-host run's CPU).
    static func hasNewline(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.baseAddress.map { memchr($0, Int32(newline), bytes.count) != nil } ?? false
    }

    /// How many leading bytes are whole lines: everything except a torn tail.
    static func wholeLength(_ bytes: [UInt8]) -> Int {
        guard let lastNewline = bytes.lastIndex(of: newline) else { return 0 }
        // Bytes after the last newline are the torn line; the line before it is whole.
        if lastNewline != bytes.count - 1 { return lastNewline + 1 }
        let start = bytes[..<lastNewline].lastIndex(of: newline).map { $0 + 1 } ?? 0
        if isJSON(bytes[start..<lastNewline]) { return lastNewline + 1 }
        return start
    }

    static func isJSON(_ line: ArraySlice<UInt8>) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])) != nil
    }

    /// A decoding error as one lower-case phrase naming where in the object it happened.
    static func describe(_ error: Error) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty
                ? ""
                : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                    .trimmingCharacters(in: CharacterSet(charactersIn: ".")) + ": "
        }
        guard let e = error as? DecodingError else { return "\(error)" }
        switch e {
        case .keyNotFound(let key, let c):
            return "\(at(c.codingPath))missing key \"\(key.stringValue)\""
        case .typeMismatch(let type, let c):
            return "\(at(c.codingPath))expected \(type)"
        case .valueNotFound(let type, let c):
            return "\(at(c.codingPath))expected \(type), found null"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not valid JSON" : "\(at(c.codingPath))\(c.debugDescription)"
        @unknown default:
            return "\(e)"
        }
    }
}

/// ISO-8601 UTC times (`2026-12-02T03:15:01Z`), as journals and lock owners write them.
public enum Timestamp {
    /// `date` in UTC, with `.123` milliseconds when asked (`WallTime`'s text: one formatter).
    public static func text(_ date: Date, milliseconds: Bool = false) -> String {
        WallTime(date).iso(milliseconds: milliseconds)
    }

    /// Reads a time with or without fractional seconds (`WallTime`'s parser).
    public static func parse(_ text: String) -> Date? {
        WallTime(iso: text).map { Date(timeIntervalSince1970: Double($0.milliseconds) / 1000) }
    }
}

extension WallTime {
    /// The wall-clock time of `date`, to the millisecond.
    public init(_ date: Date) {
        self.init(milliseconds: Int((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// This machine's wall-clock time now.
    public static var now: WallTime { WallTime(Date()) }
}

/// The journal's lines for stores other than the folder (the PostgreSQL store keeps the
/// same bytes, one row each, without the `\n`): one encoding, one decoding, everywhere.
public enum JournalLines {
    /// An event's JSON, as `line(_:prepared:)` takes it (done before the entry is numbered).
    public static func prepare(_ event: RunEvent) throws -> [UInt8] {
        try JournalFormat.eventJSON(event, path: "journal")
    }

    /// The entry's line without its `\n`: the bytes `journal.jsonl` holds for it.
    public static func line(_ entry: JournalEntry, prepared: [UInt8]?) throws -> [UInt8] {
        var line =
            if let prepared {
                try JournalFormat.line(seq: entry.seq, time: entry.time, event: prepared, path: "journal")
            } else {
                try JournalFormat.line(entry, path: "journal")
            }
        line.removeLast()
        return line
    }

    /// Decodes lines back into entries; a line that is not an entry is a `corruptJournal`
    /// error naming `source` and its line number.
    public static func decode(_ lines: [[UInt8]], source: String) throws(StoreError) -> [JournalEntry] {
        let decoder = JournalFormat.decoder()
        var entries: [JournalEntry] = []
        entries.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            // A host's common events by hand, as `JournalReader` reads them; the rest by JSONDecoder.
            if let entry = line.withUnsafeBytes(JournalLineDecoder.entry) {
                entries.append(entry)
                continue
            }
            do {
                entries.append(try decoder.decode(JournalEntry.self, from: Data(line)))
            } catch {
                throw StoreError(.corruptJournal, path: source, line: i + 1, JournalFormat.describe(error))
            }
        }
        return entries
    }
}
