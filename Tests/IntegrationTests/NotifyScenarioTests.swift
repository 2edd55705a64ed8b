import FleetCore
import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// `notify:` webhooks around a real run (docs/playbooks.md, "Notifications"): receivers on
/// 127.0.0.1 started by the test record what arrives — the announcement before each stage
/// and the outcome after (Mattermost's format), a retry after a 500 (fleetup.notify/1), a
/// receiver that never answers given up at its deadline while the run ends as it should —
/// and no webhook URL anywhere fleetup writes.
@Suite("notifications: webhooks of a real run")
struct NotifyScenarioTests {
    /// Two more webhooks after the showcase playbook's own (its announcements, on
    /// before_stage, on_halt and after_run, in Mattermost's format).
    static let more = """
          - name: flaky
            url: "{{ flaky_url }}"
            on: [after_run]
          - name: nobody home
            url: "{{ silent_url }}"
            format: slack
            on: [after_run]
            deadline: 2s

        """

    @Test("posted before each stage and after the run; a 500 retried; a silent receiver given up; URLs never written")
    func webhooks() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 1)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        let team = try WebhookReceiver()
        let flaky = try WebhookReceiver(answers: [.status(500)])
        let silent = try WebhookReceiver(then: .silent)
        defer {
            team.stop()
            flaky.stop()
            silent.stop()
        }
        let token = "tok-\(UUID().uuidString.prefix(12))"
        func url(_ r: WebhookReceiver, _ name: String) -> String { "http://127.0.0.1:\(r.port)/hooks/\(name)-\(token)" }
        try await TestFleet.with(spec.onServers) { fleet in
            let announce = "    on: [before_stage, on_halt, after_run]\n"
            let s = try await RunScenario.mattermost(
                fleet, edits: [.init(old: announce, new: announce + Self.more, why: "two more webhooks")])
            let r = try await s.run([
                "--yes", "--var", "announce_webhook=\(url(team, "team"))", "--var", "flaky_url=\(url(flaky, "flaky"))",
                "--var", "silent_url=\(url(silent, "silent"))",
            ])
            #expect(r.status == 0, "\(r.stderr)")
            let record = try s.record()
            let id = record.header.id

            // The team channel (the showcase's own announcements): one per stage, then the outcome.
            let texts = try team.requests.map { req -> String in
                #expect(req.path == "/hooks/team-\(token)")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(req.body.utf8)) as? [String: String])
                #expect(body["username"] == "fleetup")
                return body["text"] ?? ""
            }
            #expect(
                texts == [
                    "fleetup run \(id) (mattermost → 5.3.0): stage staging starts (1 host)",
                    "fleetup run \(id) (mattermost → 5.3.0): stage prod starts (1 host)",
                    "fleetup run \(id) (mattermost → 5.3.0) succeeded: 2 upgraded",
                ])
            // The flaky receiver: a 500, then the same body again, delivered on the second try.
            #expect(flaky.requests.count == 2 && flaky.requests[0].body == flaky.requests[1].body)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(flaky.requests[1].body.utf8)) as? [String: Any])
            #expect(body["schema"] as? String == "fleetup.notify/1" && body["event"] as? String == "after_run")
            #expect(body["outcome"] as? String == "succeeded" && body["run_id"] as? String == id)

            let sent = record.actions.compactMap(\.notification)
            let byName = Dictionary(grouping: sent, by: \.name)
            #expect(byName["announcements"]?.count == 3 && byName["announcements"]?.allSatisfy(\.delivered) == true)
            let retried = try #require(byName["flaky"]?.first)
            #expect(retried.delivered && retried.attempts == 2 && retried.status == 200)
            // The silent one: asked, never answered, given up; the run still ended succeeded.
            #expect(silent.requests.count >= 1)
            let given = try #require(byName["nobody home"]?.first)
            #expect(!given.delivered && given.error?.contains("its deadline passed") == true, "\(given)")
            #expect(record.outcome == .succeeded)
            #expect(r.stderr.contains(#"after_run notification "nobody home": not delivered"#), "\(r.stderr)")

            // No URL anywhere fleetup wrote.
            for path in SecretsTests.files(under: s.stateDir) {
                let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
                #expect(!text.contains(token), "\(path)")
            }
            #expect(!(r.stdout + r.stderr).contains(token))
        }
    }
}
