import FleetCore
import FleetTestSupport
import Foundation
import Testing

@testable import FleetStore

/// The hand decoder of journal lines must read exactly what JSONDecoder reads, or leave the
/// line to it: for any line, its entry is nil or JSONDecoder's entry.
@Suite("journal lines decoded by hand")
struct JournalLineDecoderTests {
    static func byHand(_ line: [UInt8]) -> JournalEntry? { line.withUnsafeBytes { JournalLineDecoder.entry($0) } }
    static func byFoundation(_ line: [UInt8]) -> JournalEntry? {
        try? JournalFormat.decoder().decode(JournalEntry.self, from: Data(line))
    }

    static func lines(_ entries: [JournalEntry]) throws -> [[UInt8]] {
        try entries.map { Array(try JournalFormat.line($0, path: "j").dropLast()) }
    }

    /// Every kind of entry, and steps with every optional field set, odd text included.
    static var entries: [JournalEntry] {
        let step = StepRef(
            phase: .rollback, from: "1.0.0", to: "1.1.0", index: -3, name: "é 🚀 \"quoted\" \\ \u{1}\t", command: "a/b", release: "r",
            attempt: 2)
        return PreparedLineTests.entries + [
            JournalEntry(
                seq: 100, time: SampleRun.time(7), event: .hostStarted(host: "h", recheck: true, resumeAt: "5.2.0 -> 5.3.0 at step 7")),
            JournalEntry(seq: 101, time: SampleRun.time(8), event: .versionRead(host: "h", version: nil, problem: "no version")),
            JournalEntry(
                seq: 102, time: SampleRun.time(9),
                event: .stepFinished(
                    host: "h",
                    record: StepRecord(
                        step: step, exitStatus: Int32.min, signal: "KILL", timedOut: true, error: "connection-lost: x", durationMs: Int.max,
                        stdout: "\u{0}", stderr: "\u{7f}\u{80}\u{FFFD}"))),
            JournalEntry(seq: 103, time: SampleRun.time(10), event: .stepStarted(host: "", step: step)),
        ]
    }

    @Test("every kind of entry: by hand the same entry as JSONDecoder's, or left to it; the hot events always by hand")
    func same() throws {
        for (entry, line) in zip(Self.entries, try Self.lines(Self.entries)) {
            #expect(Self.byFoundation(line) == entry)
            let hand = Self.byHand(line)
            #expect(hand == nil || hand == entry, "\(String(decoding: line, as: UTF8.self))")
            switch entry.event {
            case .hostStarted, .versionRead, .hopStarted, .stepStarted, .stepFinished, .healthChecked, .hostFinished:
                #expect(hand == entry, "not read by hand: \(String(decoding: line, as: UTF8.self))")
            default:
                #expect(hand == nil)
            }
        }
    }

    @Test(
        "lines JSONDecoder refuses or reads otherwise are left to it",
        arguments: [
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2","extra":1}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":1,"seq":2,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":null,"from":"1","to":"2"}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":1.0,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":1e2,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":-0,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":01,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":9223372036854775808,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h\ud800","from":"1","to":"2"}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h\x","from":"1","to":"2"}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":1,"time":"2026-12-02T03:15:01.250Z"} x"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"},"draining":{}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"hopStarted":{"host":"h","from":"1","to":"2"}},"seq":1,"time":"2026-12-02 03:15:01"}"#,
            #"{"event":{"draining":{}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"stepFinished":{"host":"h","record":{"step":{"phase":"upgrade","from":"1","to":"2","index":0,"name":"n","command":"c","attempt":1},"exitStatus":2147483648,"timedOut":false,"durationMs":1,"stdout":"","stderr":""}}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"stepStarted":{"host":"h","step":{"phase":"sideways","from":"1","to":"2","index":0,"name":"n","command":"c","attempt":1}}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
            #"{"event":{"stepStarted":{"host":"h","step":{"phase":"upgrade","from":"1","to":"2","index":0,"name":"n","command":"c"}}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#,
        ])
    func leftToFoundation(line: String) {
        let bytes = Array(line.utf8)
        #expect(Self.byHand(bytes) == nil || Self.byHand(bytes) == Self.byFoundation(bytes))
        // These all: nil by hand (the reader then asks JSONDecoder).
        #expect(Self.byHand(bytes) == nil, "\(line)")
    }

    @Test("escapes, white space and UTF-8: read as JSONDecoder reads them")
    func text() {
        for line in [
            #" { "event" : { "hopStarted" : { "host" : "h\u00e9\ud83d\ude80\n\"\/\\\b\f\r\t", "from" : "1", "to" : "2" } } , "seq" : -7 , "time" : "2026-12-02T03:15:01Z" } "#,
            #"{"event":{"hostFinished":{"host":"é","result":{"outcome":"rolled-back","path":[],"message":null}}},"seq":0,"time":"2026-12-02T03:15:01.25Z"}"#,
        ] {
            let bytes = Array(line.utf8)
            #expect(Self.byFoundation(bytes) != nil)
            #expect(Self.byHand(bytes) == Self.byFoundation(bytes), "\(line)")
        }
        // Bytes that are not UTF-8 in a string: left to JSONDecoder.
        var bad = Array(#"{"event":{"hopStarted":{"host":"hX","from":"1","to":"2"}},"seq":1,"time":"2026-12-02T03:15:01.250Z"}"#.utf8)
        bad[bad.firstIndex(of: UInt8(ascii: "X"))!] = 0xFF
        #expect(Self.byHand(bad) == nil)
    }

    @Test("lines broken at random: by hand nil or JSONDecoder's entry, never another")
    func broken() throws {
        var random = SplitMix64(seed: 17)
        let lines = try Self.lines(Self.entries)
        let alphabet = Array(#"{}[]":,\ 0123456789-.eEtrufalsn"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xA9, 0xFF]
        var byHand = 0
        for _ in 0..<20_000 {
            var line = lines[Int(random.next() % UInt64(lines.count))]
            for _ in 0...(random.next() % 3) {
                let at = Int(random.next() % UInt64(line.count))
                switch random.next() % 3 {
                case 0: line.remove(at: at)
                case 1: line.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: at)
                default: line[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            guard let hand = Self.byHand(line) else { continue }
            byHand += 1
            #expect(hand == Self.byFoundation(line), "\(String(decoding: line, as: UTF8.self))")
        }
        #expect(byHand > 1000, "the mutations left too few lines readable to compare: \(byHand)")
    }
}
