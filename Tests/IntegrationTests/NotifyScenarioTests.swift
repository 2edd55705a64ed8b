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
        let spec = RunScenario.twoHosts
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

/// https, as curl speaks it: a receiver on 127.0.0.1 with a certificate made by the test
/// (openssl) and served by Python's ssl module. Trusted through CURL_CA_BUNDLE, the post
/// arrives; without it, the certificate is refused and nothing is posted.
@Suite("notifications: https")
struct NotifyHTTPSTests {
    static let server = """
        import http.server, ssl, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with open(sys.argv[3], "ab") as f:
                    f.write(self.path.encode() + b" " + body.replace(b"\\n", b" ") + b"\\n")
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            def log_message(self, *args):
                pass
        httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        with open(sys.argv[4] + ".tmp", "w") as f:
            f.write(str(httpd.server_address[1]))
        import os; os.rename(sys.argv[4] + ".tmp", sys.argv[4])
        httpd.serve_forever()
        """

    @Test(
        "a trusted certificate: delivered over https; an untrusted one: refused, not posted, the run unaffected",
        .enabled(if: LocalProcess.find("python3") != nil && LocalProcess.find("openssl") != nil))
    func https() async throws {
        let dir = NSTemporaryDirectory() + "notify-https-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let openssl = try #require(LocalProcess.find("openssl")), python = try #require(LocalProcess.find("python3"))
        try LocalProcess.run(
            openssl,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir + "/key.pem",
                "-out", dir + "/cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        try LocalProcess.writeFile(dir + "/server.py", Array(Self.server.utf8))
        let receiver = try LocalProcess(
            python, [dir + "/server.py", dir + "/cert.pem", dir + "/key.pem", dir + "/posts", dir + "/port"], processGroup: true)
        defer {
            kill(-receiver.pid, SIGKILL)
            _ = receiver.waitForExit()
        }
        // Its port, once it listens (the file appears whole, renamed into place).
        while !FileManager.default.fileExists(atPath: dir + "/port") {
            #expect(kill(receiver.pid, 0) == 0, "the https receiver ended before it listened")
            try await Task.sleep(for: .milliseconds(20))
        }
        let port = try String(contentsOfFile: dir + "/port", encoding: .utf8)
        let url = "https://127.0.0.1:\(port)/hooks/tls-\(UUID().uuidString.prefix(8))"
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec) { fleet in
            var s = try await RunScenario.mattermost(fleet)
            s.environment["CURL_CA_BUNDLE"] = dir + "/cert.pem"
            let trusted = try await s.run(["--yes", "--var", "announce_webhook=\(url)"])
            #expect(trusted.status == 0, "\(trusted.stderr)")
            let posts = try String(contentsOfFile: dir + "/posts", encoding: .utf8).split(separator: "\n")
            #expect(posts.count == 3 && posts.allSatisfy { $0.hasPrefix("/hooks/tls-") && $0.contains(#""username": "fleetup""#) })
            #expect(try s.record().actions.compactMap(\.notification).allSatisfy(\.delivered))

            // The same certificate, not trusted: curl refuses it; nothing more arrives.
            s.environment["CURL_CA_BUNDLE"] = "/dev/null/none"
            let untrusted = try await s.run(["--yes", "--var", "announce_webhook=\(url)"])
            #expect(untrusted.status == 0, "\(untrusted.stderr)")
            let after = try String(contentsOfFile: dir + "/posts", encoding: .utf8).split(separator: "\n")
            #expect(after.count == 3, "a post reached a receiver whose certificate is not trusted")
            let refused = try #require(try s.record().actions.compactMap(\.notification).last)
            // Not retried: another try cannot make the certificate trusted.
            #expect(!refused.delivered && refused.status == nil && refused.attempts == 1, "\(refused)")
            #expect(refused.error?.contains("certificate") == true, "\(refused)")
            #expect(!(untrusted.stderr + untrusted.stdout).contains(url))
        }
    }
}
