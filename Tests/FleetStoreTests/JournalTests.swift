import Foundation
import Testing

@testable import FleetStore

/// A stand-in for the rollout's host event (the coordinator defines the real one).
private struct Event: Codable, Equatable, Sendable {
    var seq: Int
    var host: String
    var state: String
    var at: Date
    var output: String?
}

private func event(_ seq: Int, _ host: String = "web01", output: String? = nil) -> Event {
    Event(seq: seq, host: host, state: "upgraded", at: Date(timeIntervalSince1970: 1_796_181_301 + Double(seq)), output: output)
}

private func appendRaw(_ text: String, to path: String) throws {
    let h = try #require(FileHandle(forWritingAtPath: path))
    h.seekToEndOfFile()
    h.write(Data(text.utf8))
    try h.close()
}

private func size(_ path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
}

@Suite("journal: one JSON line per entry, flushed, torn tail dropped")
struct JournalTests {
    @Test("entries round-trip; lines have sorted keys, no spaces, ISO-8601 UTC times; the file is 0600")
    func roundTrip() async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            let writer = try JournalWriter(path: path)
            let events = [event(1), event(2, "web02", output: "line 1\nline \"2\""), event(3)]
            for e in events { try writer.append(e) }
            writer.close()
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 4 && lines[3].isEmpty)  // three lines, each ended by \n
            #expect(lines[0] == #"{"at":"2026-12-02T03:15:02.000Z","host":"web01","seq":1,"state":"upgraded"}"#)
            #expect(
                lines[1] == #"{"at":"2026-12-02T03:15:03.000Z","host":"web02","output":"line 1\nline \"2\"","seq":2,"state":"upgraded"}"#)
            #expect(try mode(path) == 0o600)
            let back = try JournalReader.read(path, as: Event.self)
            #expect(back.entries == events)
            #expect(!back.droppedTornLine)
        }
    }

    @Test(
        "a torn last line is dropped by the reader and cut off by a writer reopening the journal",
        arguments: [
            #"{"at":"2026-12-02T03:15:04.000Z","ho"#,  // killed mid-write: no newline
            "{\"at\":\"2026-12-02T03:1\n",  // not JSON, though ended by a newline
            "\u{0}\u{0}\u{0}\u{0}\n",  // what a crash of the machine can leave
        ])
    func tornTail(tail: String) async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            let writer = try JournalWriter(path: path)
            try writer.append(event(1))
            try writer.append(event(2))
            writer.close()
            let whole = try size(path)
            try appendRaw(tail, to: path)

            let read = try JournalReader.read(path, as: Event.self)
            #expect(read.entries == [event(1), event(2)])
            #expect(read.droppedTornLine)

            let reopened = try JournalWriter(path: path)
            #expect(reopened.repairedBytes == tail.utf8.count)
            #expect(try size(path) == whole)
            try reopened.append(event(3))
            let after = try JournalReader.read(path, as: Event.self)
            #expect(after.entries == [event(1), event(2), event(3)])
            #expect(!after.droppedTornLine)
        }
    }

    @Test("a clean journal is reopened untouched")
    func cleanReopen() async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            try JournalWriter(path: path).append(event(1))
            let reopened = try JournalWriter(path: path)
            #expect(reopened.repairedBytes == 0)
            try reopened.append(event(2))
            #expect(try JournalReader.read(path, as: Event.self).entries == [event(1), event(2)])
        }
    }

    @Test(
        "a bad line that is not the last is an error naming file:line and what was expected",
        arguments: [
            (#"{"at":"2026-12-02T03:15:02Z","host":"web01","seq":"two","state":"upgraded"}"#, "seq: expected Int"),
            (#"{"at":"2026-12-02T03:15:02Z","seq":2,"state":"upgraded"}"#, #"missing key "host""#),
            (#"{"at":"yesterday","host":"web01","seq":2,"state":"upgraded"}"#, #"at: expected an ISO-8601 time, got "yesterday""#),
            // a number past what its field holds: valid JSON, but not this entry.
            (
                #"{"at":"2026-12-02T03:15:02Z","host":"web01","seq":9223372036854775808,"state":"upgraded"}"#,
                "a number does not fit its field"
            ),
            ("garbage", "not valid JSON"),
            ("", "not valid JSON"),  // an empty line
        ])
    func badMiddleLine(line: String, problem: String) async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            let writer = try JournalWriter(path: path)
            try writer.append(event(1))
            try appendRaw(line + "\n", to: path)
            try writer.append(event(3))
            let error = await thrown(StoreError.self) { _ = try JournalReader.read(path, as: Event.self) }
            #expect(error?.kind == .corruptJournal)
            #expect(error?.line == 2)
            #expect(error?.description == "\(path):2: expected a journal entry (Event), one JSON object per line: \(problem)")
        }
    }

    @Test("a long journal, read on every core: its entries in order, and the first bad line is the one said")
    func longJournal() async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            let count = JournalReader.linesPerPart * 4
            func line(_ seq: Int) -> String { #"{"at":"2026-12-02T03:15:02.000Z","host":"web01","seq":\#(seq),"state":"upgraded"}"# }
            let at = Date(timeIntervalSince1970: 1_796_181_302)
            func write(bad: Set<Int>) throws {
                try (1...count).map { bad.contains($0) ? "garbage" : line($0) }.joined(separator: "\n").appending("\n")
                    .write(toFile: path, atomically: true, encoding: .utf8)
            }
            try write(bad: [])
            let read = try JournalReader.read(path, as: Event.self)
            #expect(read.entries.map(\.seq) == Array(1...count) && read.entries.allSatisfy { $0.at == at && $0.host == "web01" })
            // Bad lines in two parts: the earlier is said, whichever part finished first.
            for bad in [[count - 10, count / 4 + 3], [count - 10], [2, count - 10]] {
                try write(bad: Set(bad))
                let error = await thrown(StoreError.self) { _ = try JournalReader.read(path, as: Event.self) }
                #expect(error?.line == bad.min(), "\(bad)")
            }
        }
    }

    @Test("a last line that is JSON but not an entry is an error, not a torn line")
    func wrongShapeAtTheEnd() async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            try JournalWriter(path: path).append(event(1))
            try appendRaw(#"{"unexpected":true}"# + "\n", to: path)
            let error = await thrown(StoreError.self) { _ = try JournalReader.read(path, as: Event.self) }
            #expect(error?.line == 2)
            // The writer keeps it too: it is a line someone wrote, not a crash's leftover.
            #expect(try JournalWriter(path: path).repairedBytes == 0)
        }
    }

    @Test("appends from many concurrent tasks give whole lines only, none lost")
    func concurrentAppends() async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            let writer = try JournalWriter(path: path)
            let (tasks, each) = (32, 16)
            // 8 KB per line: interleaved writes would show as undecodable lines.
            let filler = String(repeating: "x", count: 8192)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        for i in 0..<each { try writer.append(event(t * 1000 + i, "host\(t)", output: filler)) }
                    }
                }
                try await group.waitForAll()
            }
            let read = try JournalReader.read(path, as: Event.self)
            #expect(!read.droppedTornLine)
            #expect(read.entries.count == tasks * each)
            #expect(Set(read.entries.map(\.seq)) == Set((0..<tasks).flatMap { t in (0..<each).map { t * 1000 + $0 } }))
            #expect(read.entries.allSatisfy { $0.output == filler })
            // Each task's own entries stay in the order it appended them.
            for t in 0..<tasks {
                let mine = read.entries.filter { $0.host == "host\(t)" }.map(\.seq)
                #expect(mine == mine.sorted())
            }
        }
    }

    @Test("errors name the path and the errno text; a closed writer refuses appends")
    func errors() async throws {
        try await withFolder { dir async throws in
            let missing = dir + "/no/such/folder/journal.jsonl"
            let open = await thrown(StoreError.self) { _ = try JournalWriter(path: missing) }
            #expect(open?.description == "\(missing): cannot open the journal: No such file or directory")
            let read = await thrown(StoreError.self) { _ = try JournalReader.read(missing, as: Event.self) }
            #expect(read?.description == "\(missing): no journal: the file does not exist")

            let writer = try JournalWriter(path: dir + "/journal.jsonl")
            writer.close()
            let closed = await thrown(StoreError.self) { try writer.append(event(1)) }
            #expect(closed?.message == "the journal is closed")
        }
    }

    @Test(
        "a journal that is a link to a device, or larger than 1 GB, is refused instead of read forever",
        arguments: [
            ("/dev/zero", "is a device, not a file (fleetup reads regular files and pipes)"),
            ("", "is larger than 1 GB, the most fleetup reads from one file"),  // a sparse file of 1 GB + 1 byte
        ])
    func hostileJournal(target: String, message: String) async throws {
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            if target.isEmpty {
                #expect(FileManager.default.createFile(atPath: path, contents: nil))
                #expect(truncate(path, off_t(JournalReader.maxBytes) + 1) == 0)
            } else {
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
            }
            let read = await thrown(StoreError.self) { _ = try JournalReader.read(path, as: Event.self) }
            #expect(read?.description == "\(path): \(message)")
            // A writer reopening it (resume) cuts a torn tail first: the same bounded read.
            let reopen = await thrown(StoreError.self) { _ = try JournalWriter(path: path) }
            #expect(reopen?.description == "\(path): \(message)")
        }
    }
}
