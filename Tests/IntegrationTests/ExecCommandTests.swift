import FleetCore
import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup exec` as a user runs it: the built binary against a real fleet.
@Suite("fleetup exec, end to end")
struct ExecCommandTests {
    func fleetup(_ fleet: TestFleet, _ args: [String]) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(
            try TestFleet.builtProduct("fleetup"),
            ["exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts] + args)
    }

    @Test("20 hosts answer; identical output collapses into one block; exit 0")
    func collapsed() async throws {
        try await TestFleet.with(FleetSpec(count: 20)) { fleet in
            let r = try await fleetup(fleet, ["--forks", "8", "--", "echo same; echo $FLEET_HOST >&2"])
            #expect(r.status == 0)
            // stdout is the same everywhere but stderr names the host: 20 blocks.
            #expect(r.stdout.components(separatedBy: "\n== ").count == 20)
            #expect(r.stdout.contains("\n20 hosts: 20 ok, 0 failed, 0 unreachable, 0 timed out ("))
            let same = try await fleetup(fleet, ["--", "echo same"])
            #expect(same.stdout.hasPrefix("== host[01-20] (20): exit 0\nsame\n"))
        }
    }

    @Test("a soft open-files limit below the fleet's size is raised to the hard one: 40 hosts under a soft limit of 32")
    func openFilesLimit() async throws {
        let prlimit = try #require(LocalProcess.find("prlimit"), "prlimit (util-linux) is missing")
        // The harness itself: a child under prlimit sees the low soft limit.
        let shell = try await TestFleet.runProgram(prlimit, ["--nofile=32:", "sh", "-c", "ulimit -n"])
        #expect(shell.stdout == "32\n")
        try await TestFleet.with(FleetSpec(count: 40)) { fleet in
            // Every host's connection stays open until the end: 40 sockets besides fleetup's own.
            let r = try await TestFleet.runProgram(
                prlimit,
                [
                    "--nofile=32:", try TestFleet.builtProduct("fleetup"), "exec", "-i", fleet.inventoryPath, "--known-hosts",
                    fleet.knownHosts,
                    "--forks", "40", "--", "sleep 0.2; echo ok",
                ])
            #expect(r.status == 0, "\(r.stdout.suffix(1500)) \(r.stderr.suffix(500))")
            #expect(r.stdout.contains("40 hosts: 40 ok, 0 failed, 0 unreachable"))
        }
    }

    @Test("a stopped host is unreachable and the rest still run: exit 1; JSON says which")
    func oneHostDown() async throws {
        try await TestFleet.with(FleetSpec(count: 4)) { fleet in
            fleet.stopSSH(on: fleet.hosts[2])
            let r = try await fleetup(fleet, ["--json", "--", "hostname >/dev/null; echo $FLEET_HOST"])
            #expect(r.status == 1)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let hosts = try #require(doc["hosts"] as? [[String: Any]])
            #expect(hosts.map { $0["outcome"] as? String } == ["ok", "ok", "unreachable", "ok"])
            #expect(hosts[0]["stdout"] as? String == "host01\n")
            let error = try #require(hosts[2]["error"] as? [String: Any])
            #expect((error["message"] as? String)?.contains("connection refused") == true)
        }
    }

    @Test("--limit narrows the hosts; a pattern matching nothing is bad input (exit 2)")
    func limit() async throws {
        try await TestFleet.with(FleetSpec(groups: [.init("staging", 2), .init("prod", 3)])) { fleet in
            let r = try await fleetup(fleet, ["--limit", "prod:!prod02", "--prefix", "--", "echo $FLEET_HOST"])
            #expect(r.status == 0)
            #expect(r.stdout.hasPrefix("prod01 | prod01\nprod03 | prod03\n2 hosts: 2 ok"))
            let bad = try await fleetup(fleet, ["--limit", "canary", "--", "true"])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("\"canary\""))
            #expect(bad.stdout.isEmpty)
        }
    }

    @Test("no host reachable (unknown host keys): exit 3, each host says why")
    func noneReachable() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let empty = fleet.directory + "/empty_known_hosts"
            let r = try await TestFleet.runProgram(
                try TestFleet.builtProduct("fleetup"),
                ["exec", "-i", fleet.inventoryPath, "--known-hosts", empty, "--", "true"])
            #expect(r.status == 3)
            #expect(r.stdout.components(separatedBy: "host-key-unknown").count == 3)
            #expect(r.stdout.contains("0 ok, 0 failed, 2 unreachable"))
        }
    }

    @Test("--timeout ends a long command on every host: timed out, exit 1")
    func timeout() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            let r = try await fleetup(fleet, ["--timeout", "1", "--", "sleep 600"])
            #expect(r.status == 1)
            #expect(r.stdout.contains("== host[01-03] (3): timed out"))
            #expect(r.stdout.contains("3 hosts: 0 ok, 0 failed, 0 unreachable, 3 timed out"))
        }
    }

    @Test("a bad inventory is bad input: file and line, exit 2, nothing on stdout")
    func badInventory() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let bad = fleet.directory + "/bad.yml"
            try "all:\n  hosts:\n    - web1\n".write(toFile: bad, atomically: true, encoding: .utf8)
            let r = try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), ["exec", "-i", bad, "--", "true"])
            #expect(r.status == 2)
            #expect(r.stderr.contains("\(bad):3: group \"all\": hosts must be a mapping"))
            #expect(r.stdout.isEmpty)
        }
    }

    @Test("Ctrl-C stops the commands in flight: the remote processes end, the summary says interrupted, exit 1")
    func interrupted() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            let process = try LocalProcess(
                try TestFleet.builtProduct("fleetup"),
                [
                    "exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "--",
                    "echo $$ > $HOME/pid; exec sleep 600",
                ])
            // Every host has started its command once its pid file exists (local files).
            let pidFiles = fleet.hosts.map { $0.root + "/home/pid" }
            let started = try await eventually { pidFiles.allSatisfy(hasLine) }
            #expect(started)
            kill(process.pid, SIGINT)
            let r = try await TestFleet.waitForExit(process)
            #expect(r.status == 1)
            #expect(r.stderr.contains("interrupted"))
            #expect(r.stdout.contains("3 hosts: 0 ok, 3 failed, 0 unreachable, 0 timed out"))
            #expect(r.stdout.contains("; interrupted"))
            for file in pidFiles {
                let pid = pid_t(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                // Gone, or a zombie waiting to be reaped: in both cases no longer running.
                #expect(stat.isEmpty || stat.contains(") Z "), "sleep \(pid) still runs")
            }
        }
    }
}
