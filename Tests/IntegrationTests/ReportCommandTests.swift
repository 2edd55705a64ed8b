import FleetCore
import FleetReports
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup report` and `fleetup runs` as a user runs them, on a state folder whose journals
/// were written by the store's own journal writer: the sample halted run, a newer run cut
/// short mid-step, and an older one with a corrupt journal.
@Suite("fleetup report and fleetup runs, end to end")
struct ReportCommandTests {
    static let unfinishedID = "20261203-031501-beef"
    static let corruptID = "20261201-000000-0bad"

    /// A state folder with the three runs; removed after `body`.
    static func withStore<T>(_ body: (String) async throws -> T) async throws -> T {
        let root = NSTemporaryDirectory() + "report-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = RunStore(root: root)
        func journal(_ id: String, _ entries: [JournalEntry]) throws {
            let folder = RunFolder(id: RunID(id)!, path: store.runsFolder + "/" + id)
            try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
            let writer = try JournalWriter(path: folder.journal)
            for e in entries { try writer.append(e) }
            writer.close()
        }
        try journal(SampleRun.id, SampleRun.entries)
        try journal(unfinishedID, unfinishedEntries)
        let corrupt = store.runsFolder + "/" + corruptID
        try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
        let header = String(decoding: try JSONEncoder().encode(SampleRun.entries[0]), as: UTF8.self)
        try (header + "\n{\"seq\": \"two\"}\n{\"seq\":3}\n").write(toFile: corrupt + "/journal.jsonl", atomically: true, encoding: .utf8)
        return try await body(root)
    }

    /// The sample run as its own run a day later, cut off while mm-eu-04 is in its "start" step.
    static var unfinishedEntries: [JournalEntry] {
        var header = SampleRun.header
        header.id = unfinishedID
        let all = SampleRun.entries
        let cut = all.firstIndex { e in
            if case .stepStarted("mm-eu-04", let s) = e.event { return s.name == "start" }
            return false
        }!
        let later = all[1...cut].map { JournalEntry(seq: $0.seq, time: $0.time + .seconds(86_400), event: $0.event) }
        return [JournalEntry(seq: 1, time: "2026-12-03T03:15:01.250Z", event: .runStarted(header))] + later
    }

    static func fleetup(_ args: [String]) async throws -> (status: Int32?, stdout: String, stderr: String) {
        let r = try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), args)
        return (r.status, r.stdout, r.stderr)
    }

    @Test(
        "report: each format from the journal is the record's rendering, byte for byte",
        arguments: RunReportFormat.allCases)
    func formats(format: RunReportFormat) async throws {
        try await Self.withStore { state in
            let r = try await Self.fleetup(["report", "20261202", "--format", format.rawValue, "--state-dir", state])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == RunReports.render(SampleRun.record, format))
            if format == .json {
                let json = try await Self.fleetup(["report", "20261202", "--json", "--state-dir", state])
                #expect(json.status == 0 && json.stdout == r.stdout, "--json is --format json")
            }
        }
    }

    @Test("report: latest is the newest run; markdown by default; --output writes the four files")
    func latestAndOutput() async throws {
        try await Self.withStore { state in
            let latest = try await Self.fleetup(["report", "latest", "--state-dir", state])
            #expect(latest.status == 0)
            #expect(latest.stdout.hasPrefix("### 🔄 mattermost → 5.3.0 unfinished"))
            let out = state + "/out"
            let written = try await Self.fleetup(["report", SampleRun.id, "--output", out, "--state-dir", state])
            #expect(written.status == 0, "\(written.stderr)")
            #expect(written.stdout == RunReportFormat.allCases.map { "\(out)/\($0.fileName)\n" }.joined())
            for format in RunReportFormat.allCases {
                #expect(
                    try String(contentsOfFile: "\(out)/\(format.fileName)", encoding: .utf8) == RunReports.render(SampleRun.record, format))
            }
        }
    }

    @Test(
        "report: a run that is not there, an ambiguous prefix, a corrupt journal: the file and line, exit 2",
        arguments: [
            (["report", "2027"], "runs: no run \"2027\" (the newest are \(unfinishedID), \(SampleRun.id), \(corruptID))"),
            (["report", "2026120"], "runs: \"2026120\" matches 3 runs: "),
            (
                ["report", corruptID],
                "/runs/\(corruptID)/journal.jsonl:2: expected a journal entry (JournalEntry), one JSON object per line: seq: expected Int"
            ),
            (["report", "--format", "pdf", "latest"], "fleetup: the value 'pdf' is invalid for '--format <format>'"),
            (["report", "latest", "--format", "md", "--output", "x"], "--format and --output do not go together"),
            (["report", "latest", "--json", "--format", "md"], "--json is --format json"),
        ])
    func errors(args: [String], message: String) async throws {
        try await Self.withStore { state in
            let r = try await Self.fleetup(args + ["--state-dir", state])
            #expect(r.status == 2)
            #expect(r.stderr.contains(message), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test("report: an entry the fold cannot take is named by its line")
    func foldError() async throws {
        try await Self.withStore { state in
            let id = "20261204-000000-0001"
            let folder = RunFolder(id: RunID(id)!, path: "\(state)/runs/\(id)")
            try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
            let writer = try JournalWriter(path: folder.journal)
            for e in SampleRun.entries.prefix(2) + [
                JournalEntry(seq: 3, time: SampleRun.time(60), event: .hostStarted(host: "ghost", recheck: false))
            ] {
                try writer.append(e)
            }
            writer.close()
            let r = try await Self.fleetup(["report", id, "--state-dir", state])
            #expect(r.status == 2)
            #expect(r.stderr == "fleetup: \(folder.journal):3: journal entry 3 names host ghost, which is not in the run's plan\n")
        }
    }

    @Test("runs: newest first, outcome or unfinished or unreadable, hosts by outcome; the bad journal on stderr")
    func runs() async throws {
        try await Self.withStore { state in
            let r = try await Self.fleetup(["runs", "--state-dir", state])
            #expect(r.status == 0)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0].hasPrefix("ID                    STARTED (UTC)        PLAYBOOK    TARGET  OUTCOME     HOSTS"))
            #expect(
                lines[1]
                    == "\(Self.unfinishedID)  2026-12-03 03:15:01  mattermost  5.3.0   unfinished  2 upgraded, 1 already-current, 1 unreachable, 3 skipped-after-halt, 2 running"
            )
            #expect(
                lines[2]
                    == "\(SampleRun.id)  2026-12-02 03:15:01  mattermost  5.3.0   halted      2 upgraded, 1 already-current, 1 failed, 1 rolled-back, 1 unreachable, 3 skipped-after-halt"
            )
            #expect(
                lines[3].hasPrefix(
                    "\(Self.corruptID)  –                    –           –       unreadable  \(state)/runs/\(Self.corruptID)/journal.jsonl:2: "
                ))
            #expect(r.stderr.hasPrefix("fleetup: warning: \(state)/runs/\(Self.corruptID)/journal.jsonl:2: expected a journal entry"))
        }
    }

    @Test("runs: a run whose process holds the fleet's lock is running; --json is fleetup.runs/1")
    func runningAndJSON() async throws {
        try await Self.withStore { state in
            let header = Self.unfinishedEntries[0]
            guard case .runStarted(let h) = header.event else { Issue.record("no header"); return }
            let key = FleetKey(hex: try #require(h.fleetKey), label: h.playbook)
            // This test process is the run's process: alive, on this machine.
            try LocalLock(store: RunStore(root: state), key: key)
                .acquire(LockOwner.current(runID: h.id, key: key, playbook: h.playbookFile, inventories: h.inventories))
            // The table, as docs/reports.md shows it.
            let table = try await Self.fleetup(["runs", "--state-dir", state])
            let docs = try String(contentsOfFile: PlanCommandTests.root + "/docs/reports.md", encoding: .utf8)
            for line in table.stdout.split(separator: "\n").prefix(3) {
                #expect(docs.contains(line + "\n"), "not in docs/reports.md: \(line)")
            }
            let r = try await Self.fleetup(["runs", "--json", "--state-dir", state])
            #expect(r.status == 0)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(doc["schema"] as? String == "fleetup.runs/1")
            let runs = try #require(doc["runs"] as? [[String: Any]])
            #expect(runs.map { $0["id"] as? String } == [Self.unfinishedID, SampleRun.id, Self.corruptID])
            #expect(runs.map { $0["outcome"] as? String } == ["running", "halted", "unreadable"])
            let summary = try #require(runs[1]["summary"] as? [String: Int])
            #expect(summary["rolled_back"] == 1 && summary["skipped_after_halt"] == 3 && summary["hosts"] == 9)
            #expect((runs[2]["error"] as? String)?.contains("journal.jsonl:2:") == true)
        }
    }

    @Test("runs: an empty state folder")
    func none() async throws {
        let r = try await Self.fleetup(["runs", "--state-dir", NSTemporaryDirectory() + "no-runs-\(UUID().uuidString)"])
        #expect(r.status == 0 && r.stdout == "no runs yet\n")
    }
}
