import FleetCore
import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// `fleetup approve` releases a run waiting at a manual gate, from another terminal (the
/// state folder) or another machine (the shared store); the journal says who and why.
@Suite("approvals from anyone")
struct ApprovalTests {
    /// Starts `fleetup run` of the Mattermost showcase (manual gate after staging) without
    /// --yes and without a terminal, waiting for approval; returns it once it says it waits.
    static func waitingRun(_ s: RunScenario, _ store: [String], stderr: String) async throws -> LocalProcess {
        let args =
            ["run", s.playbook] + s.inventories.flatMap { ["-i", $0] } + ["--known-hosts", s.fleet.knownHosts] + store + [
                "--wait-for-approval", "10m",
            ]
        let p = try LocalProcess(try TestFleet.builtProduct("fleetup"), args, output: (stderr + ".out", stderr))
        let waiting = try await eventually {
            ((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "").contains("fleetup: waiting at the gate after staging")
        }
        try #require(waiting, "the run never waited at the gate: \((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")")
        return p
    }

    @Test("state folder: a run waits at the gate; `fleetup approve` from another terminal lets it go on; a second approve exits 1")
    func folder() async throws {
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let stderr = fleet.directory + "/run.err"
            let run = try await Self.waitingRun(s, ["--state-dir", s.stateDir], stderr: stderr)
            #expect(try fleet.installedVersion(of: fleet.hosts[1]) == "5.2.0", "prod started before the gate")
            let listed = try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), ["runs", "--state-dir", s.stateDir])
            #expect(listed.stdout.contains("waiting at the gate after staging"), "\(listed.stdout)")
            let approve = try await TestFleet.runProgram(
                try TestFleet.builtProduct("fleetup"), ["approve", "--reason", "staging looks good", "--state-dir", s.stateDir])
            #expect(approve.status == 0 && approve.stdout.hasPrefix("approved the gate after staging of run "), "\(approve.stderr)")
            let exit = try await TestFleet.waitForExit(run)
            #expect(exit.status == 0, "\((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")")
            #expect(try fleet.installedVersion(of: fleet.hosts[1]) == "5.3.0")
            let gate = try #require(
                try s.entries().compactMap { e -> String? in
                    if case .gate(let stage, _, let decision, let detail) = e.event, stage == "staging", decision == .approved {
                        return detail
                    }
                    return nil
                }.first)
            #expect(gate.hasPrefix("approved by \(TestFleet.currentUser)@") && gate.hasSuffix(": staging looks good"), "\(gate)")
            // The JSON record says who approved which gate, and why.
            let folder = try #require(try s.latestRun())
            let doc = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.record))) as? [String: Any])
            #expect(doc["schema"] as? String == "fleetup.run/2")
            let actions = try #require(doc["actions"] as? [[String: Any]])
            #expect(actions.map { $0["kind"] as? String } == ["started", "gate"], "\(actions)")
            #expect(actions[1]["stage"] as? String == "staging" && actions[1]["decision"] as? String == "approved")
            #expect((actions[1]["detail"] as? String)?.hasSuffix(": staging looks good") == true)
            let again = try await TestFleet.runProgram(
                try TestFleet.builtProduct("fleetup"), ["approve", "--stage", "staging", "--state-dir", s.stateDir])
            #expect(again.status == 1 && again.stderr.contains("was already passed"), "\(again.stderr)")
        }
    }

    @Test(
        "shared store: a run on machine A waits at the gate; machine B approves it; A goes on",
        .enabled(if: TestPostgres.available, "needs PostgreSQL's server (Debian's postgresql)"))
    func store() async throws {
        try await SharedStore.with(password: "gate-pw-31") { pg, url in
            let fleetup = try TestFleet.builtProduct("fleetup")
            let spec = FleetSpec(
                groups: [.init("staging", 1), .init("prod", 1)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
            try await TestFleet.with(spec.onServers) { fleet in
                let s = try await RunScenario.mattermost(fleet)
                let stderr = fleet.directory + "/run.err"
                let run = try await Self.waitingRun(s, ["--store", url], stderr: stderr)
                var b = ProcessInfo.processInfo.environment
                b["FLEETUP_STATE_DIR"] = fleet.directory + "/machine-b"
                let approve = try await TestFleet.runProgram(
                    fleetup, ["approve", "--stage", "staging", "--reason", "ok from B", "--store", url], environment: b)
                #expect(approve.status == 0, "\(approve.stderr)")
                let exit = try await TestFleet.waitForExit(run)
                let text = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
                #expect(exit.status == 0, "\(text)")
                #expect(text.contains("fleetup: the gate after staging was approved by ") && text.contains(": ok from B"), "\(text)")
                #expect(try fleet.installedVersion(of: fleet.hosts[1]) == "5.3.0")
                #expect(try pg.sql("SELECT stage, reason FROM fleetup_approvals", database: "fleetup") == "staging|ok from B\n")
            }
        }
    }
}
