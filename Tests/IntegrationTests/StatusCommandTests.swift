import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup status` as a user runs it against the local fleet: the built binary, the
/// fleet's inventory layered with the demo one, the Mattermost playbook unchanged.
@Suite("fleetup status on the local fleet")
struct StatusCommandTests {
    /// `fleetup status ARGS` from the repository's root, with the fleet's inventories,
    /// known_hosts and a state folder of its own.
    static func status(_ fleet: TestFleet, playbook: Bool = true, _ args: [String]) async throws -> LocalProcess.Exit {
        var all = ["status", "-i", fleet.inventoryPath]
        if playbook { all += ["-i", "inventories/demo/mattermost.yml", "playbooks/mattermost.yml"] }
        all += ["--known-hosts", fleet.knownHosts, "--state-dir", fleet.directory + "/state"] + args
        return try await PlanCommandTests.fleetup(all)
    }

    static func json(_ r: LocalProcess.Exit) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "stdout: \(r.stdout)")
    }

    static func hosts(_ doc: [String: Any]) -> [String: [String: Any]] {
        Dictionary(uniqueKeysWithValues: ((doc["hosts"] as? [[String: Any]]) ?? []).map { ($0["host"] as! String, $0) })
    }

    @Test("two versions, a stopped sshd, an unhealthy app: distribution, drift, unreachable and unhealthy hosts, exit 1")
    func mixedFleet() async throws {
        let spec = FleetSpec(
            groups: [.init("staging", 2), .init("prod", 4)], layout: .mattermost,
            versions: ["5.3.0", "5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            // staging01 5.3.0, staging02 5.2.0, prod01 5.3.0, prod02 5.2.0, prod03 5.3.0, prod04 5.2.0.
            let (prod01, prod04) = (fleet.hosts[2], fleet.hosts[5])
            try fleet.setControl("fail-health", on: prod01, true)
            fleet.stopSSH(on: prod04)
            let r = try await Self.status(fleet, ["--format", "json", "--forks", "3"])
            #expect(r.status == 1, "stderr: \(r.stderr)")
            let doc = try Self.json(r)
            #expect(doc["schema"] as? String == "fleetup.status/1" && doc["passed"] as? Bool == false)
            #expect(doc["target"] as? String == "5.3.0" && doc["version_source"] as? String == "playbook")

            let versions = try #require(doc["versions"] as? [[String: Any]])
            #expect(versions.map { $0["version"] as? String ?? "unknown" } == ["5.2.0", "5.3.0", "unknown"])
            #expect(
                versions.map { $0["hosts"] as? [String] ?? [] } == [
                    ["staging02", "prod02"], ["staging01", "prod01", "prod03"], ["prod04"],
                ])
            let stages = try #require(doc["stages"] as? [[String: Any]])
            #expect(stages.map { $0["name"] as? String } == ["staging", "prod"])
            let staging = try #require(stages.first?["versions"] as? [[String: Any]])
            #expect(staging.map { $0["version"] as? String } == ["5.2.0", "5.3.0"] && staging.map { $0["count"] as? Int } == [1, 1])
            let prod = try #require(stages.last?["versions"] as? [[String: Any]])
            #expect(prod.map { $0["count"] as? Int } == [1, 2, 1])

            let drift = try #require(doc["drift"] as? [String: Any])
            #expect(drift["on_target"] as? [String] == ["staging01", "prod01", "prod03"])
            #expect(drift["behind"] as? [String] == ["staging02", "prod02"])
            #expect(drift["unknown"] as? [String] == ["prod04"] && drift["ahead"] as? [String] == [])
            #expect(doc["unreachable"] as? [String] == ["prod04"])
            #expect(doc["unhealthy"] as? [String] == ["prod01"])

            let hosts = Self.hosts(doc)
            let down = try #require(hosts["prod04"])
            #expect(down["reachable"] as? Bool == false && down["healthy"] is NSNull)
            #expect(
                (down["error"] as? String)?.hasPrefix("unreachable: \(prod04.address):\(prod04.sshPort): connection refused") == true,
                "\(down)")
            let sick = try #require(hosts["prod01"])
            #expect(sick["reachable"] as? Bool == true && sick["version"] as? String == "5.3.0" && sick["healthy"] as? Bool == false)
            let probe = try #require(((sick["health"] as? [String: Any])?["probes"] as? [[String: Any]])?.first)
            #expect(probe["target"] as? String == "http://127.0.0.1:\(prod01.appPort)/api/v4/system/ping")
            #expect(probe["verdict"] as? String == "3 consecutive failures")
            #expect(((probe["attempts"] as? [[String: Any]])?.first?["detail"] as? String)?.hasPrefix("status 503") == true)
            #expect(hosts["staging02"]?["healthy"] as? Bool == true && hosts["staging02"]?["drift"] as? String == "behind")
            #expect(hosts.values.allSatisfy { $0["last_run"] is NSNull }, "no run in this state folder")

            // Progress went to stderr, a line per host; stdout is the report alone.
            #expect(r.stderr.contains("fleetup: checking 6 hosts, 3 at a time\n"))
            #expect(r.stderr.contains("] prod04: unreachable: ") && r.stderr.contains("] prod01: 5.3.0, UNHEALTHY\n"))
            // Checking changed nothing on the hosts.
            #expect(fleet.serviceLog(of: prod01).isEmpty)
        }
    }

    @Test("a healthy fleet on the target: exit 0 in every format; --require-target with an older target: exit 1; no playbook")
    func healthyFleet() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.3.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let text = try await Self.status(fleet, [])
            #expect(text.status == 0, "stderr: \(text.stderr)")
            #expect(text.stdout.hasPrefix("✅ mattermost → 5.3.0: all 3 hosts reachable and healthy, all on 5.3.0\n"), "\(text.stdout)")

            let page = fleet.directory + "/status.html"
            let html = try await Self.status(fleet, ["--format", "html", "--output", page])
            #expect(html.status == 0 && html.stdout.isEmpty, "stderr: \(html.stderr)")
            let written = try String(contentsOfFile: page, encoding: .utf8)
            #expect(
                written.contains("<rect class=\"bar drift-on-target\" data-stage=\"all stages\" data-version=\"5.3.0\" data-hosts=\"3\""))

            let junit = try await Self.status(fleet, ["--format", "junit"])
            #expect(junit.status == 0 && junit.stdout.contains("tests=\"3\" failures=\"0\" errors=\"0\""), "\(junit.stdout)")

            // 5.3.0 is ahead of 5.2.0: reported always, failing only when required.
            let ahead = try await Self.status(fleet, ["--json", "--target", "5.2.0"])
            #expect(ahead.status == 0)
            #expect((try Self.json(ahead)["drift"] as? [String: Any])?["ahead"] as? [String] == ["staging01", "prod01", "prod02"])
            let required = try await Self.status(fleet, ["--json", "--target", "5.2.0", "--require-target"])
            #expect(required.status == 1)
            #expect(Self.hosts(try Self.json(required))["prod01"]?["problems"] as? [String] == ["off-target"])

            // No playbook: groups as stages, the version from --version-cmd, no probes (the
            // real path on a namespaced host; the inventory's per-host folder on loopback).
            let command =
                fleet.hosts[0].netns == nil ? "{{ install_dir }}/bin/mattermost version" : "/opt/mattermost/bin/mattermost version"
            let bare = try await Self.status(fleet, playbook: false, ["--json", "--version-cmd", command])
            #expect(bare.status == 0, "stderr: \(bare.stderr)")
            let doc = try Self.json(bare)
            #expect((doc["stages"] as? [[String: Any]])?.map { $0["name"] as? String } == ["staging", "prod"])
            #expect(Self.hosts(doc).values.allSatisfy { $0["version"] as? String == "5.3.0" && $0["healthy"] is NSNull })
            #expect(doc["target"] is NSNull && doc["drift"] is NSNull && doc["version_source"] as? String == "version-cmd")
        }
    }

    @Test(
        "bad input exits 2 before any connection",
        arguments: [
            (["--version-cmd", "{{ no_such_var }}/bin/app"], "--version-cmd: "),
            (["--target", "9.9.9"], "9.9.9 is not one of the playbook's releases"),
            (["--format", "pdf"], "pdf"),
            (["--json", "--format", "md"], "--json and --format md do not go together"),
            (["--var", "target=1"], "\"target\" is a run fact"),
            // The report could not be written after every host was asked: refused first.
            (
                ["--output", "/nonexistent-fleetup/status.txt"],
                "fleetup: --output: /nonexistent-fleetup is not a folder (expected FILE in an existing folder)"
            ),
            (["--output", "/tmp"], "fleetup: --output: /tmp is a folder (expected a file to write the report into)"),
        ])
    func badInput(args: [String], message: String) async throws {
        // Port 9 (discard) on this machine: never dialled, the input is refused first.
        let dir = NSTemporaryDirectory() + "fleetup-status-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        mattermost:
          children:
            staging: { hosts: { s1: { ansible_host: 127.0.0.1, ansible_port: 9 } } }
            prod: { hosts: { p1: { ansible_host: 127.0.0.1, ansible_port: 9 } } }
        """.write(toFile: dir + "/hosts.yml", atomically: true, encoding: .utf8)
        let r = try await PlanCommandTests.fleetup(
            [
                "status", "-i", dir + "/hosts.yml", "playbooks/mattermost.yml",
                "--state-dir", dir + "/state",
            ] + args)
        #expect(r.status == 2, "stdout: \(r.stdout) stderr: \(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty && !r.stderr.contains("checking "))
    }
}
