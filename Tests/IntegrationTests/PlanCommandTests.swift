import FleetCore
import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup plan` and `fleetup check` as a user runs them, from the repository's root, on the
/// showcase playbooks and example inventories; the plans are compared with golden files
/// (`FLEETUP_UPDATE_GOLDEN=1` rewrites them; a mismatch shows the diff).
@Suite("fleetup plan and check, end to end")
struct PlanCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let golden = root + "/Tests/FleetConfigTests/Fixtures/plans"

    /// Runs fleetup in the repository's root, so paths print as a user there sees them.
    static func fleetup(_ args: [String]) async throws -> LocalProcess.Exit {
        let bin = try TestFleet.builtProduct("fleetup")
        return try await TestFleet.runProgram("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", root, bin] + args)
    }

    @Test(
        "golden plans of the showcase playbooks",
        arguments: [
            // Mattermost: one release at a time; an unlisted patch release is an error for its host: exit 1.
            ("mattermost.txt", ["plan", "playbooks/mattermost.yml", "-i", "inventories/mattermost"], Int32(1)),
            ("mattermost.json", ["plan", "playbooks/mattermost.yml", "-i", "inventories/mattermost", "--json"], 1),
            // Flow: one cumulative hop per host, every skipped release's instructions once.
            ("flow.txt", ["plan", "playbooks/flow.yml", "-i", "inventories/flow"], 0),
            ("flow.json", ["plan", "playbooks/flow.yml", "-i", "inventories/flow", "--json"], 0),
            // An older target: hosts already past it are errors, never downgraded.
            (
                "flow-target-v3.1.0.txt",
                ["plan", "playbooks/flow.yml", "-i", "inventories/flow/hosts.ini", "--target", "v3.1.0", "--limit", "prod"], 1
            ),
        ])
    func golden(file: String, args: [String], status: Int32) async throws {
        let r = try await Self.fleetup(args)
        #expect(r.status == status, "stderr: \(r.stderr)")
        try Self.compare(r.stdout, golden: "\(Self.golden)/\(file)")
        if file.hasSuffix(".json") {
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            #expect(doc?["schema"] as? String == "fleetup.plan/1")
        }
    }

    static func compare(_ actual: String, golden path: String) throws {
        if let diff = try Golden.mismatch(actual, golden: path) { Issue.record("\(diff)") }
    }

    @Test("the plan shows secrets redacted and never their values")
    func secrets() async throws {
        let r = try await Self.fleetup([
            "plan", "playbooks/mattermost.yml", "-i", "inventories/mattermost", "--limit", "staging",
            "--var", "db_password=hunter2 secret",
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("PGPASSWORD=[REDACTED] pg_dump -h pg-staging.chat.example.com"))
        #expect(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"))
        let json = try await Self.fleetup([
            "plan", "playbooks/mattermost.yml", "-i", "inventories/mattermost", "--json",
            "--var", "db_password=hunter2",
        ])
        #expect(!json.stdout.contains("hunter2"))
    }

    @Test(
        "check: ok on the showcase playbooks, and what a run would need that is missing, as warnings",
        arguments: [("playbooks/mattermost.yml", "inventories/mattermost"), ("playbooks/flow.yml", "inventories/flow")])
    func checkOK(playbook: String, inventory: String) async throws {
        let r = try await Self.fleetup(["check", playbook, "-i", inventory])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.hasPrefix("\(playbook): ok: "))
    }

    @Test("check: every problem at once, file:line, exit 2, nothing on stdout")
    func checkBad() async throws {
        let dir = NSTemporaryDirectory() + "check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let book = dir + "/upgrade.yml"
        try """
        hosts: mattermost
        stages: [staging, prod]
        version:
          detect: "{{ install_dir }}/bin/mattermost version"
        releases: ["5.0.0", "5.1.0"]
        steps:
          - name: back up
            run: cp {{ install_dir }}/config.json {{ backup_dr }}/
          - name: start
            run: systemctl start {{ service }}
            when: canary
        """.write(toFile: book, atomically: true, encoding: .utf8)
        let r = try await Self.fleetup(["check", book, "-i", "inventories/mattermost/hosts.ini"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(
            r.stderr.components(separatedBy: "\n").filter { !$0.isEmpty } == [
                "fleetup: \(book):7: step \"back up\": unknown variable \"backup_dr\" (did you mean \"backup_dir\"?) (on all 9 hosts)",
                "fleetup: \(book):9: step \"start\": unknown variable \"service\" (on all 9 hosts)",
                // canary is true on mm-eu-01 (host_vars) and unknown elsewhere.
                "fleetup: \(book):9: step \"start\": when: unknown variable or release flag \"canary\" (hosts mm-staging-1.chat.example.com, mm-staging-2.chat.example.com, mm-eu-02.chat.example.com, mm-eu-03.chat.example.com, mm-eu-04.chat.example.com and 3 more)",
            ])
        // --json: the same three problems on stdout, each with its file and line (fleetup.check/1).
        let json = try await Self.fleetup(["check", book, "-i", "inventories/mattermost/hosts.ini", "--json"])
        #expect(json.status == 2 && json.stderr == r.stderr)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "fleetup.check/1" && doc["ok"] as? Bool == false)
        let problems = try #require(doc["problems"] as? [[String: Any]])
        #expect(problems.map { $0["line"] as? Int } == [7, 9, 9])
        #expect(problems.allSatisfy { $0["file"] as? String == book })
        #expect((problems.first?["message"] as? String)?.hasPrefix("step \"back up\": unknown variable \"backup_dr\"") == true)
    }

    @Test(
        "run --approve names the stage a gate follows: a typo or the last stage is refused before anything runs",
        arguments: [
            ("prodd", "fleetup: --approve prodd: not a stage of this run (it names the stage a gate comes after: staging)"),
            ("prod", "fleetup: --approve prod: the last stage: no gate follows it (it names the stage a gate comes after: staging)"),
        ])
    func approveNames(stage: String, message: String) async throws {
        let state = NSTemporaryDirectory() + "approve-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = try await Self.fleetup([
            "run", "playbooks/mattermost.yml", "-i", "inventories/mattermost", "--approve", stage, "--state-dir", state,
        ])
        #expect(r.status == 2 && r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/runs"), "no run was made")
    }

    @Test("check --json: what a good playbook holds, as the text line says it")
    func checkJSON() async throws {
        let text = try await Self.fleetup(["check", "playbooks/flow.yml", "-i", "inventories/flow"])
        let json = try await Self.fleetup(["check", "playbooks/flow.yml", "-i", "inventories/flow", "--json"])
        #expect(text.status == 0 && json.status == 0, "\(json.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["ok"] as? Bool == true && (doc["problems"] as? [Any])?.isEmpty == true)
        let hosts = try #require(doc["hosts"] as? Int)
        let stages = try #require(doc["stages"] as? [[String: Any]])
        #expect(text.stdout.contains(": ok: \(hosts) hosts in \(stages.count) stages ("))
        #expect(stages.reduce(0) { $0 + ($1["hosts"] as? Int ?? 0) } == hosts)
        #expect(text.stdout.contains("target \(doc["target"] as? String ?? "?"), path \(doc["path"] as? String ?? "?");"))
    }

    @Test(
        "check: hosts in no stage, a stage that matches nothing, a bad --target",
        arguments: [
            (
                ["--limit", "staging:&prod"],
                "fleetup: playbooks/mattermost.yml:11: hosts: pattern \"mattermost\" with --limit \"staging:&prod\" matches no host"
            ),
            (["--target", "5.9.0"], "fleetup: --target: 5.9.0 is not one of the playbook's releases (5.0.0, 5.1.0, 5.2.0, 5.3.0)"),
            (["--target", "latest"], "fleetup: --target: \"latest\" is not a version (expected x.y.z)"),
            (["--var", "to=1"], "fleetup: --var: \"to\" is a run fact (host, target, from, to, release): fleetup sets it"),
        ])
    func checkInput(extra: [String], message: String) async throws {
        let r = try await Self.fleetup(["check", "playbooks/mattermost.yml", "-i", "inventories/mattermost"] + extra)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }

    @Test("check: a host outside every stage is an error naming it")
    func noStage() async throws {
        let dir = NSTemporaryDirectory() + "stage-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[staging]\nmm1\n[prod]\nmm2\n[canary]\nmm3\n[mattermost:children]\nstaging\nprod\ncanary\n"
            .write(toFile: dir + "/hosts.ini", atomically: true, encoding: .utf8)
        let r = try await Self.fleetup(["check", "playbooks/mattermost.yml", "-i", dir + "/hosts.ini"])
        #expect(r.status == 2)
        #expect(
            r.stderr.contains(
                "playbooks/mattermost.yml:12: stages: mm3 is selected by hosts: \"mattermost\" but in no stage (stages: staging, prod)"),
            "\(r.stderr)")
    }
}

extension PlanCommandTests {
    @Test("check: its summary line counts in words that agree (1 step, 2 releases, 0 health probes)")
    func checkSummary() async throws {
        let dir = NSTemporaryDirectory() + "check-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let book = dir + "/one.yml"
        try "hosts: all\nversion:\n  detect: app version\nreleases: [\"1.0.0\", \"1.1.0\"]\nsteps:\n  - run: \"true\"\n".write(
            toFile: book, atomically: true, encoding: .utf8)
        let r = try await Self.fleetup(["check", book, "-i", "h1,"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout
                == "\(book): ok: 1 host in 1 stage (all 1); 2 releases, target 1.1.0, path sequential; 1 step, 0 health probes, 0 rollback steps\n"
        )
    }
}

extension PlanCommandTests {
    @Test("plan with --forks below a batch's size says what it means for that batch's halt")
    func forksBelowBatch() async throws {
        let r = try await Self.fleetup(["plan", "playbooks/mattermost.yml", "-i", "inventories/mattermost", "--forks", "2"])
        #expect(
            r.stdout.contains(
                "  batch 3: 3 hosts, halts at 1 failure; 2 at a time (--forks 2): hosts of the batch not started when it halts never start\n"
            ),
            "\(r.stdout)")
        #expect(r.stdout.contains("  batch 4: 2 hosts, halts at 1 failure\n"))
        let wide = try await Self.fleetup(["plan", "playbooks/mattermost.yml", "-i", "inventories/mattermost"])
        #expect(!wide.stdout.contains("at a time"))
    }
}
