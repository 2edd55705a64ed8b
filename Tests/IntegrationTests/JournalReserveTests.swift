import FleetCore
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// The journal's reserve on a real, small, full disk (a tmpfs of the test's own).
@Suite("journal reserve on a full disk", .enabled(if: SmallDisk.available, "needs root to mount a small tmpfs"))
struct JournalReserveTests {
    static func entry(_ seq: Int) -> JournalEntry {
        JournalEntry(seq: seq, time: "2026-12-07T00:00:00.000Z", event: .note(host: nil, text: String(repeating: "x", count: 200)))
    }

    @Test("a write that finds the disk full gives the reserve back and is written; past the reserve a write fails whole")
    func degrade() async throws {
        try await SmallDisk.with(bytes: 1 << 20) { disk in
            let reserve = try JournalReserve(path: disk.path + "/journal.reserve", bytes: 64 << 10)
            let journal = try JournalWriter(path: disk.path + "/journal.jsonl", reserve: reserve)
            try journal.append(Self.entry(1))
            try disk.fill()
            #expect(journal.degradation == nil)
            // The journal's last page may still hold a few lines; then the disk is full.
            var seq = 1
            while journal.degradation == nil && seq < 100 {
                seq += 1
                try journal.append(Self.entry(seq))
            }
            #expect(journal.degradation == "no space left on device")
            #expect(!FileManager.default.fileExists(atPath: reserve.path))
            // The reserve's room is used up, then the journal says so and keeps whole lines.
            var failure: String?
            while failure == nil && seq < 10_000 {
                seq += 1
                do { try journal.append(Self.entry(seq)) } catch { failure = "\(error)" }
            }
            #expect(
                failure?.hasSuffix("cannot append to the journal: No space left on device (the journal holds whole lines only)") == true,
                "\(failure ?? "no failure")")
            journal.close()
            let read = try JournalReader.read(disk.path + "/journal.jsonl", as: JournalEntry.self)
            #expect(read.entries.map(\.seq) == Array(1..<seq) && !read.droppedTornLine)
        }
    }

    @Test("a disk without room for the reserve refuses the run before it starts, saying why")
    func refusedAtStart() async throws {
        try await SmallDisk.with(bytes: 256 << 10) { disk in
            do {
                _ = try JournalReserve(path: disk.path + "/journal.reserve", bytes: 1 << 20)
                Issue.record("a 1 MiB reserve fit on a 256 KiB disk")
            } catch {
                #expect("\(error)".contains("cannot keep 1024 KiB in reserve for the journal (No space left on device)"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: disk.path + "/journal.reserve"))
        }
    }
}
