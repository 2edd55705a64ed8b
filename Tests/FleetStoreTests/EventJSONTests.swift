import FleetCore
import FleetTestSupport
import Foundation
import Testing

@testable import FleetStore

/// The journal writes events with a hand-made encoder (`EventJSON`); every byte must be what
/// Foundation's `JSONEncoder` (the journal's options) writes, or old readers, resume and
/// the PostgreSQL store would see different lines.
@Suite("hand-written event JSON")
struct EventJSONTests {
    /// Strings that exercise every escape: each control character, quotes, backslashes,
    /// slashes, DEL, C1 controls, line separators, a BOM, accents, emoji, a redacted secret.
    static let tricky: [String] = [
        "", "plain", "a \"quoted\" \\ back\\slash", "/usr/bin/app --flag=/x/y", "line\nbreak\r\n\ttab",
        String((0..<0x20).map { Character(UnicodeScalar(UInt8($0))) }), "\u{7f}\u{80}\u{9f}\u{a0}", "\u{2028}\u{2029}\u{feff}",
        "é ü ß 日本語 🚀👩‍👩‍👧", "\u{1}start and end\u{1f}", "\\u0041 is not A", "{\"json\":[1,2]}",
        Redactor(["hunter2"]).redact("PGPASSWORD=hunter2 psql -c 'select 1' # hunter2"),
    ]

    static func step(_ i: Int, release: String?, attempt: Int = 1) -> StepRef {
        StepRef(
            phase: i % 2 == 0 ? .upgrade : .rollback, from: "5.0.0", to: "5.1.0", index: i, name: tricky[i % tricky.count],
            command: tricky[(i + 3) % tricky.count], release: release, attempt: attempt)
    }

    static let health = HealthRecord(
        context: "after 5.0.0 -> 5.1.0", healthy: false,
        probes: [
            ProbeRecord(
                target: "http://127.0.0.1:8065/api/v4/system/ping", expectation: "status 200", healthy: false,
                verdict: "3 consecutive failures",
                attempts: [
                    ProbeAttempt(atMs: 0, durationMs: 12, passed: true, detail: "status 200, 15 bytes: {\"status\":\"OK\"}"),
                    ProbeAttempt(atMs: 1000, durationMs: -1, passed: false, detail: "connection refused\n"),
                ], logs: "tail\nof\tlogs"),
            ProbeRecord(target: "command: probe", expectation: "exit 0", healthy: true, verdict: "", attempts: []),
        ], durationMs: 2012)

    /// At least one of every kind of event, each optional both absent and present.
    static let samples: [RunEvent] = [
        .resumed(user: "bob", machine: "ops/2", retryFailed: true),
        .resumed(user: "", machine: "m", retryFailed: false),
        .stageStarted(stage: "prod \"eu\""),
        .batchStarted(stage: "staging", batch: 0, hosts: []),
        .batchStarted(stage: "prod", batch: Int.max, hosts: ["a", "b/c", "d\"e"]),
        .hostStarted(host: "h1", recheck: false),
        .hostStarted(host: "h1", recheck: true, resumeAt: "5.2.0 -> 5.3.0 at step 7 \"start\""),
        .versionRead(host: "h1", version: nil, problem: nil),
        .versionRead(host: "h1", version: "5.0.0", problem: nil),
        .versionRead(host: "h1", version: nil, problem: "exit 127: app: not found\n"),
        .versionRead(host: "h1", version: "x", problem: "y"),
        .hopStarted(host: "h1", from: "5.0.0", to: "5.1.0"),
        .stepStarted(host: "h1", step: step(0, release: nil)),
        .stepStarted(host: "h1", step: step(5, release: "https://example.com/r/5.1.0.tar.gz", attempt: 3)),
        .stepFinished(host: "h1", record: StepRecord(step: step(1, release: nil))),
        .stepFinished(
            host: "h1",
            record: StepRecord(
                step: step(2, release: "5.1.0"), exitStatus: Int32.min, signal: "KILL", timedOut: true,
                error: "connection-lost: reset", durationMs: 123_456, stdout: tricky[5], stderr: tricky[12])),
        .stepFinished(host: "h1", record: StepRecord(step: step(3, release: nil), exitStatus: 0, durationMs: 7, stdout: "ok\n")),
        .healthChecked(host: "h1", record: health),
        .healthChecked(host: "h1", record: HealthRecord(context: "soak of staging", healthy: true, probes: [], durationMs: 0)),
        .hostFinished(host: "h1", result: HostResult(outcome: .upgraded)),
        .hostFinished(
            host: "h1",
            result: HostResult(
                outcome: .failed, versionBefore: "5.0.0", versionAfter: "5.1.0", path: ["5.0.0", "5.1.0"], message: tricky[2],
                restore: "/var/backups/mm-5.0.0.tar.gz")),
        .hostsSkipped(hosts: ["x", "y"], reason: "halt \"quoted\""),
        .hostsSkipped(hosts: [], reason: ""),
        .gate(stage: "staging", next: "prod", decision: .open, detail: nil),
        .gate(stage: "staging", next: "prod", decision: .soakFailed, detail: "h3 unhealthy"),
        .gateWaiting(stage: "staging", next: "prod"),
        .halted(reason: "2 of 10 hosts failed (max_fail_percentage 10)"),
        .draining,
        .aborting,
        .runFinished(outcome: .waitingForApproval),
        .runFinished(outcome: .succeeded),
        .hookRan(record: HookRecord(point: .beforeRun, name: "announce")),
        .hookRan(
            record: HookRecord(
                point: .afterBatch, name: "n\"x", stage: "prod", batch: 2, status: -1, signal: 9, timedOut: true, error: "no shell",
                output: tricky[8], durationMs: 5000)),
        .notified(record: NotifyRecord(event: .afterRun, name: "team", format: "json", delivered: false)),
        .notified(
            record: NotifyRecord(
                event: .onHalt, name: "ops", format: "mattermost", delivered: true, status: 200, attempts: 2, error: "e",
                durationMs: 31)),
        .note(host: nil, text: tricky[5]),
        .note(host: "h2", text: "stale lock taken over"),
    ]

    /// Which kind an event is: a new kind of event does not compile here until it has
    /// samples above (and a writer in `EventJSON`, whose switch is exhaustive too).
    static func kind(_ e: RunEvent) -> Int {
        switch e {
        case .runStarted: 0
        case .resumed: 1
        case .stageStarted: 2
        case .batchStarted: 3
        case .hostStarted: 4
        case .versionRead: 5
        case .hopStarted: 6
        case .stepStarted: 7
        case .stepFinished: 8
        case .healthChecked: 9
        case .hostFinished: 10
        case .hostsSkipped: 11
        case .gate: 12
        case .gateWaiting: 13
        case .halted: 14
        case .draining: 15
        case .aborting: 16
        case .runFinished: 17
        case .hookRan: 18
        case .notified: 19
        case .note: 20
        }
    }

    static func encoderBytes(_ e: RunEvent) throws -> [UInt8] { Array(try JournalFormat.encoder().encode(e)) }

    static func text(_ b: [UInt8]?) -> String { b.map { String(decoding: $0, as: UTF8.self) } ?? "nil" }

    @Test("every kind of event but the header: the encoder's bytes")
    func samplesMatch() throws {
        #expect(Set(Self.samples.map(Self.kind)) == Set(1...20))
        for e in Self.samples {
            let want = try Self.encoderBytes(e)
            let got = EventJSON.encode(e)
            #expect(got == want, "want \(Self.text(want))\n got \(Self.text(got))")
        }
    }

    @Test("the sample run's journal (its header through JSONEncoder): the same lines")
    func sampleRun() throws {
        for entry in SampleRun.entries {
            if case .runStarted = entry.event { #expect(EventJSON.encode(entry.event) == nil) }
            #expect(try JournalFormat.eventJSON(entry.event, path: "j") == Self.encoderBytes(entry.event))
        }
    }

    @Test("every character below U+0100 and a few beyond, alone and amid text")
    func everyCharacter() throws {
        var scalars = (0..<0x100).map { UnicodeScalar(UInt8($0)) }
        scalars += [0x2028, 0x2029, 0xFEFF, 0xFFFD, 0x1F680, 0x10FFFF].compactMap(UnicodeScalar.init)
        for u in scalars {
            for s in [String(u), "a\(u)b\(u)\(u)"] {
                let e = RunEvent.note(host: s, text: s)
                #expect(EventJSON.encode(e) == (try Self.encoderBytes(e)), "U+\(String(u.value, radix: 16))")
            }
        }
    }

    @Test("redacted output: the same bytes, and the secret is not in them")
    func redacted() throws {
        let redactor = Redactor(["s3cr3t/\"pw\""])
        let record = StepRecord(
            step: Self.step(4, release: nil), exitStatus: 1, stdout: redactor.redact("login s3cr3t/\"pw\" ok"),
            stderr: redactor.redact("s3cr3t/\"pw\""))
        let e = RunEvent.stepFinished(host: "h", record: record)
        let got = try #require(EventJSON.encode(e))
        #expect(got == (try Self.encoderBytes(e)))
        #expect(!Self.text(got).contains("s3cr3t"))
    }

    @Test("2,000 seeded random events: the encoder's bytes")
    func seeded() throws {
        var rng = SplitMix64(seed: 17)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        func string() -> String {
            let pool: [String] = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1b}", "\u{7f}", "é", "🚀", "\u{2028}", "{", ":"]
            return (0..<pick(12)).map { _ in pool[pick(pool.count)] }.joined()
        }
        func maybe() -> String? { pick(2) == 0 ? nil : string() }
        func int() -> Int { [0, 1, -1, Int.max, Int.min, Int(Int32.max), pick(100_000)][pick(7)] }
        func ref() -> StepRef {
            StepRef(
                phase: pick(2) == 0 ? .upgrade : .rollback, from: string(), to: string(), index: int(), name: string(), command: string(),
                release: maybe(), attempt: int())
        }
        for _ in 0..<2000 {
            let e: RunEvent =
                switch pick(8) {
                case 0: .hostStarted(host: string(), recheck: pick(2) == 0, resumeAt: maybe())
                case 1: .versionRead(host: string(), version: maybe(), problem: maybe())
                case 2: .stepStarted(host: string(), step: ref())
                case 3:
                    .stepFinished(
                        host: string(),
                        record: StepRecord(
                            step: ref(), exitStatus: pick(2) == 0 ? nil : Int32(truncatingIfNeeded: int()), signal: maybe(),
                            timedOut: pick(2) == 0, error: maybe(), durationMs: int(), stdout: string(), stderr: string()))
                case 4:
                    .hostFinished(
                        host: string(),
                        result: HostResult(
                            outcome: HostOutcome.allCases[pick(HostOutcome.allCases.count)], versionBefore: maybe(),
                            versionAfter: maybe(), path: (0..<pick(3)).map { _ in string() }, message: maybe(), restore: maybe()))
                case 5: .batchStarted(stage: string(), batch: int(), hosts: (0..<pick(4)).map { _ in string() })
                case 6: .gate(stage: string(), next: string(), decision: .declined, detail: maybe())
                default: .note(host: maybe(), text: string())
                }
            let want = try Self.encoderBytes(e)
            let got = EventJSON.encode(e)
            #expect(got == want, "want \(Self.text(want))\n got \(Self.text(got))")
            if got != want { break }
        }
    }
}
