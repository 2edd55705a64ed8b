import FleetCore
import Foundation
import Testing

@testable import FleetCLI

@Suite("run progress: plain timestamped lines off a terminal, a live block on one")
struct RunProgressTests {
    private let header = RunHeader(
        id: "20261202-031501-3f2a", user: "alice", machine: "ops1", fleetupVersion: "0",
        playbook: "mattermost", playbookFile: "/p.yml", inventories: ["/i"], target: "5.3.0",
        forks: 2, policy: "", stages: [StagePlan(name: "prod", batches: [["a", "b"], ["c"]], haltAt: [1, 1])])

    private func events() -> [RunEvent] {
        let step = StepRef(phase: .upgrade, from: "5.2.0", to: "5.3.0", index: 0, name: "start", command: "systemctl start mattermost")
        return [
            .runStarted(header),
            .stageStarted(stage: "prod"),
            .batchStarted(stage: "prod", batch: 1, hosts: ["a", "b"]),
            .hostStarted(host: "a", recheck: false),
            .hostStarted(host: "b", recheck: false),
            .stepStarted(host: "a", step: step),
            .stepFinished(host: "a", record: StepRecord(step: step, exitStatus: 1)),
            .hostFinished(
                host: "a",
                result: HostResult(
                    outcome: .failed, versionBefore: "5.2.0", message: "step \"start\" exit 1",
                    restore: "restore 5.2.0 from …")),
            .halted(reason: "1 of 2 hosts in the batch failed, more than max_fail_percentage 0%"),
            .hostsSkipped(hosts: ["c"], reason: "halted"),
            .hostFinished(host: "b", result: HostResult(outcome: .upgraded, versionBefore: "5.2.0", versionAfter: "5.3.0")),
            .runFinished(outcome: .halted),
        ]
    }

    /// What the progress wrote for the events, into a file read back after. Not a pipe: a
    /// daemon another test spawns at that moment (sshd, PostgreSQL) could inherit the pipe's
    /// write end, and reading to its end would then wait forever on a cooperative thread —
    /// two of those once froze the whole suite.
    private func output(tty: Bool, _ events: [RunEvent]? = nil) throws -> String {
        let path = NSTemporaryDirectory() + "progress-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = try #require(FileHandle(forWritingAtPath: path))
        let progress = RunProgress(header: header, tty: tty, out: out)
        var record: RunRecord?
        for (i, e) in (events ?? self.events()).enumerated() {
            let entry = JournalEntry(seq: i + 1, time: WallTime(iso: "2026-12-02T03:15:0\(i % 10).000Z")!, event: e)
            if record == nil { record = try RunRecord(header: entry) } else { try record!.apply(entry) }
            progress.show(entry, counts: record!.statusCounts)
        }
        progress.finish()
        try out.close()
        return String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    @Test("off a terminal: one timestamped line per batch, failure, host result, halt; no escape codes")
    func plain() throws {
        let lines = try output(tty: false).split(separator: "\n").map(String.init)
        #expect(lines.contains("03:15:02 prod batch 1/2: 2 hosts"))
        #expect(lines.contains("03:15:06   a: step \"start\" exit 1"))
        #expect(lines.contains("03:15:07 !! a: failed (5.2.0): step \"start\" exit 1"))
        #expect(lines.contains("03:15:07     restore: restore 5.2.0 from …"))
        #expect(lines.contains("03:15:08 HALTED: 1 of 2 hosts in the batch failed, more than max_fail_percentage 0%"))
        #expect(lines.contains("03:15:00 ok b: upgraded 5.2.0 -> 5.3.0"))
        #expect(!lines.joined().contains("\u{1B}"))
    }

    @Test("an unreachable host's line says unreachable once")
    func unreachable() throws {
        let events: [RunEvent] = [
            .runStarted(header), .stageStarted(stage: "prod"), .batchStarted(stage: "prod", batch: 1, hosts: ["a", "b"]),
            .hostStarted(host: "a", recheck: false),
            .hostFinished(host: "a", result: HostResult(outcome: .unreachable, message: "unreachable: 10.0.0.5:22: connection refused")),
        ]
        let text = try output(tty: false, events)
        #expect(text.contains("!! a: unreachable: 10.0.0.5:22: connection refused\n"), "\(text)")
    }

    @Test("on a terminal: the live block shows the host in flight and its step, redrawn in place, cleared at the end")
    func live() throws {
        let text = try output(tty: true)
        #expect(text.contains("  … a: 5.2.0 -> 5.3.0: start\n"))
        #expect(text.contains("] prod batch 1/2: 0/2 done"))
        #expect(text.contains("\u{1B}[2F\u{1B}[J") || text.contains("\u{1B}[3F\u{1B}[J"))  // moved up over the old block
        #expect(text.hasSuffix("\u{1B}[J"))  // the block is gone at the end
    }
}
