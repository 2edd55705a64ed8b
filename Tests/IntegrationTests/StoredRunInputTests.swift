import FleetCore
import FleetStore
import FleetTestSupport
import Foundation
import Testing

/// What `fleetup report` and `fleetup runs` are given that is not what they need (issue 18,
/// point 5): bad input is said with the path and exit status 2, never taken for something else.
@Suite("report and runs on bad input")
struct StoredRunInputTests {
    @Test("report --output into a folder that cannot be made or written: the reason, exit 2", arguments: [
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

    @Test("a state folder that is a file is said to be one, not a store without runs: exit 2", arguments: [
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
}
