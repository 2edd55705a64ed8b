import FleetCore
import FleetLocal
import FleetStore
import FleetTestFleet
import Foundation
import Testing

/// Playbook hooks as real local processes around a real run (docs/playbooks.md, "Hooks"):
/// the showcase Mattermost playbook on a test fleet, with a before_stage hook that refuses
/// prod, an after_batch hook that hangs, an on_halt hook that keeps what it was given, and
/// an after_run hook. What the hosts, the journal, the reports and the hooks' own files say.
@Suite("hooks: local commands on a real run")
struct HookScenarioTests {
    static let canary = "hook-canary-7d41-SECRET"
    static let becomePassword = "become-canary-22e9-SECRET"

    static func hooks(marker: String) -> String {
        """
        hooks:
          before_run:
            - name: check the window
              run: echo "run $FLEETUP_RUN_ID to {{ target }}"
          before_stage:
            - name: freeze prod
              run: 'test "$FLEETUP_STAGE" != prod || { echo "prod is frozen this week" >&2; exit 3; }'
          after_batch:
            - name: slow dashboard
              run: sleep 600 # \(marker)
              timeout: 1s
          on_halt:
            - name: page
              run: cat > {{ hook_dir }}/halt.json; env > {{ hook_dir }}/halt.env; echo "paging with $HOOK_TOKEN"
              env:
                HOOK_TOKEN: "{{ hook_token }}"
          after_run:
            - run: echo "$FLEETUP_OUTCOME" > {{ hook_dir }}/outcome

        """
    }

    @Test("before_stage refuses prod: prod untouched, run halted; on_halt gets the halt's JSON; a hanging hook ended at its timeout")
    func hooksAroundARun() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let marker = "fleetup-hook-test-\(UUID().uuidString.prefix(8))"
            let hookDir = fleet.directory + "/hook-out"
            try FileManager.default.createDirectory(atPath: hookDir, withIntermediateDirectories: true)
            var s = try await RunScenario.mattermost(
                fleet,
                edits: [
                    .init(old: "\nsteps:\n", new: "\n" + Self.hooks(marker: marker) + "steps:\n", why: "hooks"),
                    .init(
                        old: "secret: [db_password, announce_webhook]", new: "secret: [db_password, announce_webhook, hook_token]",
                        why: "hook_token secret"),
                ])
            s.environment["FLEETUP_BECOME_PASSWORD"] = Self.becomePassword
            let r = try await s.run(["--yes", "--var", "hook_dir=\(hookDir)", "--var", "hook_token=\(Self.canary)"])
            #expect(r.status == 1, "\(r.stderr)")

            // Staging went up; prod was never touched.
            let host = { (name: String) in fleet.hosts.first { $0.name == name }! }
            #expect(try fleet.installedVersion(of: host("staging01")) == "5.3.0")
            for name in ["prod01", "prod02"] {
                #expect(try fleet.installedVersion(of: host(name)) == "5.2.0", "\(name)")
                #expect(fleet.serviceLog(of: host(name)).isEmpty, "\(name)")
            }
            let record = try s.record()
            #expect(record.outcome == .halted)
            #expect(record.haltReason == #"before_stage hook "freeze prod" (prod): exit 3"#)
            #expect(record.host("prod01")?.outcome == .skippedAfterHalt && record.host("prod02")?.outcome == .skippedAfterHalt)
            let ran = record.actions.compactMap(\.hook)
            #expect(
                ran.map { "\($0.point.rawValue) \($0.name) \($0.passed)" } == [
                    "before_run check the window true", "before_stage freeze prod true", "after_batch slow dashboard false",
                    "before_stage freeze prod false", "on_halt page true", "after_run after_run 1 true",
                ])
            #expect(ran[0].output == "run \(record.header.id) to 5.3.0\n")
            // The hanging hook: ended at its timeout, and its process group with it.
            #expect(ran[2].timedOut && ran[2].signal == SIGKILL && ran[2].durationMs < 60_000)
            let left = try await LocalProcess.result(of: "/usr/bin/pgrep", ["-f", marker])
            #expect(left.status == 1, "a hook process outlived its timeout: \(left.stdout)")
            #expect(ran[3].output == "prod is frozen this week\n" && ran[3].status == 3)

            // on_halt: the halt's JSON on stdin, fleetup's variables, the named secret, no other FLEETUP_ one.
            let event = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: hookDir + "/halt.json"))) as? [String: Any])
            #expect(event["schema"] as? String == "fleetup.hook/1" && event["hook"] as? String == "on_halt")
            #expect(event["run_id"] as? String == record.header.id && event["reason"] as? String == record.haltReason)
            let env = try String(contentsOfFile: hookDir + "/halt.env", encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(env.contains("FLEETUP_HOOK=on_halt") && env.contains("FLEETUP_RUN_ID=\(record.header.id)"))
            #expect(env.contains("HOOK_TOKEN=\(Self.canary)"), "a secret named in env: reaches the hook")
            #expect(!env.contains { $0.hasPrefix("FLEETUP_BECOME_PASSWORD") }, "fleetup's own secrets never do")
            #expect(try String(contentsOfFile: hookDir + "/outcome", encoding: .utf8) == "halted\n")
            // What the hook printed with the secret is redacted; the secret is nowhere fleetup writes.
            #expect(ran[4].output == "paging with [REDACTED]\n")
            for path in SecretsTests.files(under: s.stateDir) {
                let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
                #expect(!text.contains(Self.canary) && !text.contains(Self.becomePassword), "\(path)")
            }
            #expect(!(r.stdout + r.stderr).contains(Self.canary))
            #expect(r.stderr.contains(#"after_batch hook "slow dashboard" (staging batch 1): timed out"#), "\(r.stderr)")
        }
    }
}
