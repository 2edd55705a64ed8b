import FleetCore
import Foundation
import Testing

@testable import FleetStore

/// A journal's `seq` rises by one per line; a jump is entries lost from the middle (issue 18,
/// point 5: such a journal was reported as if complete).
@Suite("journal gaps")
struct JournalGapsTests {
    static func entries(_ seqs: [Int]) -> [JournalEntry] {
        seqs.map { JournalEntry(seq: $0, time: WallTime(iso: "2026-12-02T03:15:01.250Z")!, event: .draining) }
    }

    @Test(
        "jumps in seq are gaps, each named by the line after it",
        arguments: [
            ([1, 2, 3], []),  // whole
            ([1, 2, 5], ["j:3: journal entries 3-4 are missing before this line (seq goes from 2 to 5)"]),
            // One entry lost says "entry", not a range.
            ([1, 3], ["j:2: journal entry 2 is missing before this line (seq goes from 1 to 3)"]),
            // The first line lost (the fold then refuses the journal: no header).
            ([2, 3], ["j:1: journal entry 1 is missing before this line (seq goes from 0 to 2)"]),
            // Every gap, in order.
            (
                [1, 2, 4, 7],
                [
                    "j:3: journal entry 3 is missing before this line (seq goes from 2 to 4)",
                    "j:4: journal entries 5-6 are missing before this line (seq goes from 4 to 7)",
                ]
            ),
        ])
    func gaps(seqs: [Int], expected: [String]) throws {
        #expect(try JournalGaps.find(Self.entries(seqs), path: "j").map(\.description) == expected)
    }

    @Test(
        "a seq that does not rise is a corrupt journal, named by its line",
        arguments: [
            // A line repeated.
            ([1, 2, 2], "j:3: journal entry 2 comes after entry 2 (expected 3: entries are numbered in order, one per line)"),
            // Lines swapped.
            ([1, 3, 2], "j:3: journal entry 2 comes after entry 3 (expected 4: entries are numbered in order, one per line)"),
            // The largest number, repeated: saying what was expected overflowed (scripts/fuzz).
            (
                [1, Int.max, Int.max],
                "j:3: journal entry 9223372036854775807 comes after entry 9223372036854775807 (no entry can follow it: entries are numbered in order, one per line)"
            ),
        ])
    func outOfOrder(seqs: [Int], message: String) {
        #expect { _ = try JournalGaps.find(Self.entries(seqs), path: "j") } throws: {
            ($0 as? StoreError)?.description == message && ($0 as? StoreError)?.kind == .corruptJournal
        }
    }
}
