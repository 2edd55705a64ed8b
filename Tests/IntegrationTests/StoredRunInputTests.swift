import FleetCore
import FleetStore
import FleetTestSupport
import Foundation
import Testing

/// What `fleetup report` and `fleetup runs` are given that is not what they need (issue 18,
/// point 5): bad input is said with the path and exit status 2, never taken for something else.
@Suite("report and runs on bad input")
struct StoredRunInputTests {
    @Test(
        "report --output into a folder that cannot be made or written: the reason, exit 2",
        arguments: [
            // A regular file where a folder of the path should be (what root cannot write either).
            ("file/out", "--output: STATE/file: exists and is not a folder"),
            // The output folder itself is a regular file.
            ("file", "--output: STATE/file: exists and is not a folder"),
        ])
    func outputNotWritable(output: String, message: String) async throws {
        try await ReportCommandTests.withStore { state in
            try "not a folder\n".write(toFile: state + "/file", atomically: true, encoding: .utf8)
            let r = try await ReportCommandTests.fleetup(["report", SampleRun.id, "--output", state + "/" + output, "--state-dir", state])
            #expect(r.status == 2)
            #expect(r.stderr == "fleetup: \(message.replacingOccurrences(of: "STATE", with: state))\n")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test(
        "a state folder that is a file is said to be one, not a store without runs: exit 2",
        arguments: [
            // The issue's case: runs said "no runs yet".
            (["runs"], "file", "STATE/file: is not a folder (expected the state folder, which holds runs/ and locks/)"),
            (["runs", "--json"], "file", "STATE/file: is not a folder (expected the state folder, which holds runs/ and locks/)"),
            // report and resume said "there are no runs yet" / "there is no run to resume".
            (["report", "latest"], "file", "STATE/file: is not a folder (expected the state folder, which holds runs/ and locks/)"),
            (["resume"], "file", "STATE/file: is not a folder (expected the state folder, which holds runs/ and locks/)"),
            // A state folder whose runs/ is a file.
            (["runs"], "broken", "STATE/broken/runs: is not a folder (expected the folder of the stored runs)"),
        ])
    func stateDirNotAFolder(args: [String], stateDir: String, message: String) async throws {
        try await ReportCommandTests.withStore { state in
            try "not a folder\n".write(toFile: state + "/file", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: state + "/broken", withIntermediateDirectories: true)
            try "not a folder\n".write(toFile: state + "/broken/runs", atomically: true, encoding: .utf8)
            let r = try await ReportCommandTests.fleetup(args + ["--state-dir", state + "/" + stateDir])
            #expect(r.status == 2)
            #expect(r.stderr == "fleetup: \(message.replacingOccurrences(of: "STATE", with: state))\n")
            #expect(r.stdout.isEmpty)
        }
    }

    /// The sample run's journal without its entries 40 and 41 (lines 40 and 41), in `state`.
    static func gappedRun(in state: String) throws -> RunFolder {
        let id = "20261205-000000-0040"
        let folder = RunFolder(id: RunID(id)!, path: "\(state)/runs/\(id)")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        var header = SampleRun.header
        header.id = id
        let entries =
            [JournalEntry(seq: 1, time: SampleRun.entries[0].time, event: .runStarted(header))]
            + SampleRun.entries.dropFirst().filter { $0.seq != 40 && $0.seq != 41 }
        let writer = try JournalWriter(path: folder.journal)
        for e in entries { try writer.append(e) }
        writer.close()
        return folder
    }

    @Test("a journal with entries missing from the middle: report and runs show it and say so; resume refuses")
    func missingEntries() async throws {
        try await ReportCommandTests.withStore { state in
            let folder = try Self.gappedRun(in: state)
            let gap = "\(folder.journal):40: journal entries 40-41 are missing before this line (seq goes from 39 to 42)"
            let report = try await ReportCommandTests.fleetup(["report", folder.id.text, "--format", "json", "--state-dir", state])
            #expect(report.status == 0)
            #expect(
                report.stderr
                    == "fleetup: warning: \(gap): the report shows only what the journal holds, so hosts may have got further than it says\n"
            )
            #expect(report.stdout.contains("\"last_seq\""))

            let runs = try await ReportCommandTests.fleetup(["runs", "--state-dir", state])
            #expect(runs.status == 0)
            #expect(
                runs.stdout.contains(
                    "\n\(folder.id)  2026-12-02 03:15:01  mattermost  5.3.0   halted      2 upgraded, 1 already-current, 1 failed, "
                        + "1 rolled-back, 1 unreachable, 3 skipped-after-halt (incomplete: journal entries 40-41 missing)\n"),
                "\(runs.stdout)")
            #expect(runs.stderr.hasPrefix("fleetup: warning: \(gap): the run is listed as far as the journal goes\n"), "\(runs.stderr)")
            let json = try await ReportCommandTests.fleetup(["runs", "--json", "--state-dir", state])
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let listed = try #require((doc["runs"] as? [[String: Any]])?.first { $0["id"] as? String == folder.id.text })
            #expect(listed["warning"] as? String == "journal entries 40-41 missing" && listed["error"] is NSNull)
            #expect((doc["runs"] as? [[String: Any]])?.first { $0["id"] as? String == SampleRun.id }?["warning"] is NSNull)

            let before = try Data(contentsOf: URL(fileURLWithPath: folder.journal))
            let resume = try await ReportCommandTests.fleetup(["resume", folder.id.text, "--state-dir", state])
            #expect(resume.status == 2)
            #expect(
                resume.stderr == "fleetup: \(gap): resume could run a finished step again, so it does not go on; "
                    + "`fleetup report \(folder.id)` shows what the journal holds; the hosts this run left mid-upgrade keep their host locks "
                    + "(`fleetup lock status`): check each by hand, then `fleetup lock release --force` lets a new run take them\n")
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder.journal)) == before)
        }
    }
}
