import FleetCore

/// Entries missing from a journal. The coordinator numbers entries 1, 2, 3… and writes each
/// as one line in that order (a resume goes on counting, a torn last line is cut before the
/// next is written), so `seq` rises by exactly one from line to line: a jump means lines were
/// lost from the middle (an edit, a bad copy, a disk error). The record folded without them
/// is not the whole run.
public struct JournalGap: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    /// The 1-based line of the first entry after the gap.
    public var line: Int
    /// The `seq` numbers no line has.
    public var missing: ClosedRange<Int>

    public init(path: String, line: Int, missing: ClosedRange<Int>) {
        self.path = path
        self.line = line
        self.missing = missing
    }

    /// `5`, or `5-6`.
    public var missingText: String {
        missing.count == 1 ? "\(missing.lowerBound)" : "\(missing.lowerBound)-\(missing.upperBound)"
    }

    /// `journal entries 5-6 are missing before this line (seq goes from 4 to 7)`
    public var message: String {
        let what = missing.count == 1 ? "journal entry \(missingText) is" : "journal entries \(missingText) are"
        return "\(what) missing before this line (seq goes from \(missing.lowerBound - 1) to \(missing.upperBound + 1))"
    }

    /// `path:line: ` and the message, as fleetup's other errors about files read.
    public var description: String { "\(path):\(line): \(message)" }
}

public enum JournalGaps {
    /// The gaps in `entries` (one per line, in file order) of the journal at `path`. An entry
    /// whose `seq` does not rise (a line repeated or moved) is no gap but a corrupt journal:
    /// the error names its line.
    public static func find(_ entries: [JournalEntry], path: String) throws(StoreError) -> [JournalGap] {
        var gaps: [JournalGap] = []
        var previous = 0
        for (i, entry) in entries.enumerated() {
            if entry.seq <= previous {
                throw StoreError(
                    .corruptJournal, path: path, line: i + 1,
                    "journal entry \(entry.seq) comes after entry \(previous) (\(previous < Int.max ? "expected \(previous + 1)" : "no entry can follow it"): entries are numbered in order, one per line)"
                )
            }
            if entry.seq > previous + 1 { gaps.append(JournalGap(path: path, line: i + 1, missing: (previous + 1)...(entry.seq - 1))) }
            previous = entry.seq
        }
        return gaps
    }
}
