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
}
