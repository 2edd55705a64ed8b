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
    /// A store, a fleet of staging01, prod01 and prod02 on 5.2.0, and the Mattermost
    /// scenario holding after its stop step; `args` runs it against the store (with --yes).
    static func scenario(
        password: String, _ body: (TestPostgres, String, TestFleet, RunScenario, [String]) async throws -> Void
    ) async throws {
        try await SharedStore.with(password: password) { pg, url in
            let spec = FleetSpec(
                groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
            try await TestFleet.with(spec.onServers) { fleet in
                let s = try await RunScenario.mattermost(
                    fleet, edits: [.hold(after: "    run: systemctl stop {{ service }}\n    become: true\n", "after stop")])
                let args =
                    ["run", s.playbook] + s.inventories.flatMap { ["-i", $0] } + [
                        "--known-hosts", fleet.knownHosts, "--store", url, "--yes",
                    ]
                try await body(pg, url, fleet, s, args)
            }
        }
    }
    @Test("machine B is refused while A runs (A named); A killed mid-step; B resumes it to the end; finished hosts untouched")
    func twoMachines() async throws {
        try await Self.scenario(password: "team-pw-77") { pg, url, fleet, s, args in
            let fleetup = try TestFleet.builtProduct("fleetup")
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
            // Who did what: started on A, resumed from B (the same user and machine here).
            #expect(report.stdout.contains("#### Who did what") && report.stdout.contains(": resumed by "), "\(report.stdout)")
            for r in [b, resumed, runs, report] { #expect(!(r.stdout + r.stderr).contains("team-pw-77")) }
        }
    }
}

extension SharedStoreTests {
    @Test("the store stopped mid-run: no host goes on while it is gone; back, the run completes with nothing missing from its journal")
    func outage() async throws {
        try await Self.scenario(password: "outage-pw-5") { pg, url, fleet, s, args in
            let fleetup = try TestFleet.builtProduct("fleetup")
            var env = ProcessInfo.processInfo.environment
            env["FLEETUP_STATE_DIR"] = fleet.directory + "/state"
            env["FLEETUP_STORE_OUTAGE"] = "300"
            let stderr = fleet.directory + "/run.err"
            let prod01 = fleet.hosts[1], prod02 = fleet.hosts[2]
            try s.hold(prod01)
            let run = try LocalProcess(fleetup, args, environment: env, output: (stderr + ".out", stderr))
            try #require(try await eventually { s.holdingPid(prod01) != nil }, "prod01 never held")
            try pg.kill()
            try s.letGo(prod01)
            let text = { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }
            try #require(try await eventually { text().contains("cannot be reached") }, "the outage was never noticed: \(text())")
            // While the store is gone: prod01's next step never ran, prod02 never started.
            #expect(fleet.serviceLog(of: prod01) == ["stop mattermost"], "\(fleet.serviceLog(of: prod01))")
            #expect(fleet.serviceLog(of: prod02).isEmpty)
            // prod02 will hold too: the run, back, waits there while machine B tries.
            try s.hold(prod02)
            try pg.restart()
            try #require(try await eventually { s.holdingPid(prod02) != nil }, "prod02 never held: \(text())")
            #expect(text().contains("is back: the run goes on"), "\(text())")
            // The fleet's lock was taken again with the store: machine B is refused.
            var b = env
            b["FLEETUP_STATE_DIR"] = fleet.directory + "/state-b"
            let other = try await TestFleet.runProgram(fleetup, args, environment: b)
            #expect(other.status == 3 && other.stderr.contains("the fleet is locked by run "), "\(other.stderr)")
            try s.letGo(prod02)
            let exit = try await TestFleet.waitForExit(run)
            #expect(exit.status == 0, "\(text())")
            for host in fleet.hosts { #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)") }
            // The journal has every line, in order, and says what the hosts show.
            let report = try await TestFleet.runProgram(
                fleetup, ["report", "latest", "--store", url, "--format", "json"], environment: env)
            #expect(report.status == 0 && !report.stderr.contains("missing"), "\(report.stderr)")
            let seqs = try pg.sql(
                "SELECT seq FROM fleetup_journal WHERE run_id = (SELECT min(id) FROM fleetup_runs) ORDER BY seq", database: "fleetup"
            ).split(separator: "\n").compactMap {
                Int($0)
            }
            #expect(seqs == Array(1...seqs.count))
            let stops = try pg.sql(
                "SELECT count(*) FROM fleetup_journal WHERE line LIKE '%stepFinished%' AND line LIKE '%systemctl stop mattermost%' AND line LIKE '%\"exitStatus\":0%'",
                database: "fleetup")
            #expect(stops == "3\n", "\(stops)")
        }
    }
}

extension SharedStoreTests {
    @Test("the store gone longer than the run waits: a clean stop (nothing runs meanwhile); once it is back, resume completes")
    func outageTooLong() async throws {
        try await Self.scenario(password: "outage-pw-6") { pg, url, fleet, s, args in
            let fleetup = try TestFleet.builtProduct("fleetup")
            var env = ProcessInfo.processInfo.environment
            env["FLEETUP_STATE_DIR"] = fleet.directory + "/state"
            env["FLEETUP_STORE_OUTAGE"] = "2"
            let prod01 = fleet.hosts[1], prod02 = fleet.hosts[2]
            try s.hold(prod01)
            let run = try LocalProcess(fleetup, args, environment: env)
            try #require(try await eventually { s.holdingPid(prod01) != nil }, "prod01 never held")
            try pg.kill()
            try s.letGo(prod01)
            // Two seconds without the store: the run stops by itself, having started nothing more.
            let stopped = try await TestFleet.waitForExit(run)
            #expect(stopped.status != 0 && stopped.signal == nil, "\(stopped.stderr)")
            #expect(stopped.stderr.contains("could not be written to the store: unreachable for 2s"), "\(stopped.stderr)")
            #expect(fleet.serviceLog(of: prod01) == ["stop mattermost"] && fleet.serviceLog(of: prod02).isEmpty)
            try pg.restart()
            let resumed = try await TestFleet.runProgram(
                fleetup, ["resume", "--store", url, "--known-hosts", fleet.knownHosts, "--yes"], environment: env)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            for host in fleet.hosts { #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)") }
            #expect(fleet.serviceLog(of: fleet.hosts[0]) == ["stop mattermost", "start mattermost"])
        }
    }
}
