import FleetCore
import FleetTestSupport
import Foundation
import Testing

@testable import FleetStore

/// The coordinator has each event's JSON made before it takes its lock (`prepare`), and the
/// line spliced from it (`line(seq:time:event:)`) must be the very line the journal's
/// encoder makes of the whole entry: readers, resume and reports see no difference.
@Suite("journal lines from prepared events")
struct PreparedLineTests {
    static var entries: [JournalEntry] {
        SampleRun.entries + [
            JournalEntry(seq: 90, time: SampleRun.time(1), event: .resumed(user: "bob", machine: "ops/2", retryFailed: true)),
            JournalEntry(seq: 91, time: SampleRun.time(2), event: .hostsSkipped(hosts: ["a", "b"], reason: "halt \"quoted\"")),
            JournalEntry(seq: 92, time: SampleRun.time(3), event: .draining),
            JournalEntry(seq: 93, time: SampleRun.time(4), event: .aborting),
            JournalEntry(seq: 94, time: SampleRun.time(5), event: .note(host: nil, text: "line\nbreak, tab\t, é 🚀 /path \\ \u{1}")),
            JournalEntry(seq: Int.max, time: SampleRun.time(6), event: .note(host: "h", text: "")),
        ]
    }

    @Test("every kind of entry: the spliced line is the encoder's line, byte for byte, and reads back")
    func sameBytes() throws {
        #expect(Self.entries.count > 20)
        for entry in Self.entries {
            let whole = try JournalFormat.line(entry, path: "j")
            let event = try JournalFormat.eventJSON(entry.event, path: "j")
            let spliced = try JournalFormat.line(seq: entry.seq, time: entry.time, event: event, path: "j")
            #expect(spliced == whole, "\(String(decoding: whole, as: UTF8.self))")
            let back = try JournalFormat.decoder().decode(JournalEntry.self, from: Data(spliced.dropLast()))
            #expect(back == entry)
        }
    }

    @Test("a journal written through prepare reads back as the entries")
    func writer() throws {
        let dir = NSTemporaryDirectory() + "fleetup-prepared-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try JournalWriter(path: dir + "/journal.jsonl")
        for entry in SampleRun.entries { try writer.write(entry, event: try writer.prepare(entry.event)) }
        writer.close()
        let read = try JournalReader.read(dir + "/journal.jsonl", as: JournalEntry.self)
        #expect(read.entries == SampleRun.entries)
    }
}
