import FleetCore
import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// Two coordinators, two state folders, one PostgreSQL store (issue 14): the second is
/// refused with the holder named; a run killed on the first is resumed from the second and
/// completes without redoing a finished host; `runs` and `report` read it from anywhere.
@Suite(
    "shared store: two machines, one PostgreSQL",
    .enabled(if: TestPostgres.available, "needs PostgreSQL's server (Debian's postgresql)"))
struct SharedStoreTests {
    @Test("machine B is refused while A runs (A named); A killed mid-step; B resumes it to the end; finished hosts untouched")
    func twoMachines() async throws {
        try await TestPostgres.with { pg in
            try pg.role("fleetup", password: "team-pw-77", database: "fleetup")
            let url = pg.url(user: "fleetup", password: "team-pw-77", database: "fleetup")
            let fleetup = try TestFleet.builtProduct("fleetup")
            let initialized = try await TestFleet.runProgram(fleetup, ["store", "init", "--store", url])
            #expect(initialized.status == 0, "\(initialized.stderr)")
            let spec = FleetSpec(
                groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
            try await TestFleet.with(spec.onServers) { fleet in
                let s = try await RunScenario.mattermost(
                    fleet, edits: [.hold(after: "    run: systemctl stop {{ service }}\n    become: true\n", "after stop")])
                let args =
                    ["run", s.playbook] + s.inventories.flatMap { ["-i", $0] } + [
                        "--known-hosts", fleet.knownHosts, "--store", url, "--yes",
                    ]
                func machine(_ name: String) -> [String: String] {
                    var e = ProcessInfo.processInfo.environment
                    e["FLEETUP_STATE_DIR"] = fleet.directory + "/state-" + name
                    e.removeValue(forKey: "FLEETUP_STORE")
                    return e
                }
                let prod01 = fleet.hosts[1]
                try s.hold(prod01)
                let a = try LocalProcess(fleetup, args, environment: machine("a"))
                let held = try await eventually { s.holdingPid(prod01) != nil }
                try #require(held, "prod01 never held")
                // B, another machine's fleetup on the same store: refused, A named.
                let b = try await TestFleet.runProgram(fleetup, args, environment: machine("b"))
                #expect(b.status == 3, "\(b.stderr)")
                #expect(b.stderr.contains("the fleet is locked by run ") && b.stderr.contains("pid \(a.pid),"), "\(b.stderr)")
                kill(a.pid, SIGKILL)
                #expect(try await TestFleet.waitForExit(a).signal == SIGKILL)
                try s.letGo(prod01)
                // Nothing of A's run is in either state folder: it is all in the store.
                for name in ["a", "b"] {
                    #expect(!FileManager.default.fileExists(atPath: fleet.directory + "/state-\(name)/runs"), "state-\(name)")
                }
                let staging01 = fleet.hosts[0]
                #expect(fleet.serviceLog(of: staging01) == ["stop mattermost", "start mattermost"])
                // From B: the lock's holder is gone (its session ended with A), and plan names
                // the host A left mid-upgrade, both read from the store.
                let fleetArgs = s.inventories.flatMap { ["-i", $0] } + ["--store", url]
                let lock = try await TestFleet.runProgram(
                    fleetup, ["lock", "status", s.playbook] + fleetArgs + ["--known-hosts", fleet.knownHosts], environment: machine("b"))
                #expect(lock.status == 1 && lock.stdout.contains("its session ended (the run is gone)"), "\(lock.stdout)\(lock.stderr)")
                let plan = try await TestFleet.runProgram(fleetup, ["plan", s.playbook] + fleetArgs, environment: machine("b"))
                #expect(plan.stderr.contains("fleetup: note: prod01: run "), "\(plan.stderr)")
                // B resumes the run A left (its lock's session ended with A).
                let resumed = try await TestFleet.runProgram(
                    fleetup, ["resume", "--store", url, "--known-hosts", fleet.knownHosts, "--yes"], environment: machine("b"))
                #expect(resumed.status == 0, "\(resumed.stderr)")
                for host in fleet.hosts { #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)") }
                // staging01 finished before the kill: not touched again.
                #expect(fleet.serviceLog(of: staging01) == ["stop mattermost", "start mattermost"])
                // Any machine lists it and renders its report from the store.
                let runs = try await TestFleet.runProgram(fleetup, ["runs", "--store", url], environment: machine("c"))
                #expect(runs.status == 0 && runs.stdout.contains("succeeded") && runs.stdout.contains("3 upgraded"), "\(runs.stdout)")
                let report = try await TestFleet.runProgram(
                    fleetup, ["report", "latest", "--store", url, "--format", "md"], environment: machine("c"))
                #expect(report.status == 0 && report.stdout.contains("mattermost → 5.3.0"), "\(report.stdout)\(report.stderr)")
                for r in [b, resumed, runs, report] { #expect(!(r.stdout + r.stderr).contains("team-pw-77")) }
            }
        }
    }
}
