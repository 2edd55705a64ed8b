import FleetCore
import Foundation
import Synchronization
import Testing

@testable import FleetStore

@Suite("group commit: each entry durable before its flush returns, many flushes share one fdatasync")
struct GroupCommitTests {
    @Test("200 tasks record and flush at once: when a flush returns its line is in the file; order and count hold")
    func concurrent() async throws {
        try await withFolder { dir in
            let path = dir + "/journal.jsonl"
            let journal = GroupCommitJournal(try JournalWriter(path: path))
            let numbers = Numbers()
            await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        // Numbering and recording under one lock, as the coordinator does.
                        let n = try numbers.next { n in
                            try journal.record(
                                JournalEntry(seq: n, time: WallTime(milliseconds: 0), event: .hostStarted(host: "h\(i)", recheck: false)))
                        }
                        try await journal.flush(through: n)
                        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
                        #expect(lines.count >= n)
                    }
                }
            }
            journal.close()
            let entries = try JournalReader.read(path, as: JournalEntry.self).entries
            #expect(entries.map(\.seq) == Array(1...200))
        }
    }

    @Test("a closed journal refuses new entries")
    func closed() async throws {
        try await withFolder { dir in
            let journal = GroupCommitJournal(try JournalWriter(path: dir + "/j.jsonl"))
            try journal.record(JournalEntry(seq: 1, time: WallTime(milliseconds: 0), event: .draining))
            try await journal.flush(through: 1)
            journal.close()
            #expect(throws: StoreError.self) { try journal.record(JournalEntry(seq: 2, time: WallTime(milliseconds: 0), event: .aborting)) }
        }
    }
}

/// Numbers entries and records them under one lock, as the coordinator does.
private final class Numbers: Sendable {
    private let last = Mutex(0)
    func next(_ record: (Int) throws -> Void) throws -> Int {
        try last.withLock { n in
            n += 1
            try record(n)
            return n
        }
    }
}

@Suite("journal reserve: room kept for the end of a run")
struct JournalReserveSizeTests {
    @Test(
        "256 KiB per fork, at least 1 MiB, at most 64 MiB; FLEETUP_JOURNAL_RESERVE wins",
        arguments: [
            (1, [:], 1 << 20),  // the floor
            (20, [:], 5 << 20),  // the default --forks
            (1000, [:], 64 << 20),  // the ceiling
            (Int.max, [:], 64 << 20),  // no overflow
            (20, ["FLEETUP_JOURNAL_RESERVE": "0"], 0),  // none
            (20, ["FLEETUP_JOURNAL_RESERVE": "4096"], 4096),
            (20, ["FLEETUP_JOURNAL_RESERVE": "lots"], 5 << 20),  // not a number: the default
        ] as [(Int, [String: String], Int)])
    func size(forks: Int, environment: [String: String], bytes: Int) {
        #expect(JournalReserve.size(forks: forks, environment: environment) == bytes)
    }
}
