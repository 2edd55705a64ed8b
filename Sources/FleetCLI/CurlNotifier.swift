import FleetCore
import FleetLocal
import FleetReports
import FleetRollout
import Foundation

/// The playbook's notifications, posted with curl (docs/playbooks.md, "Notifications"):
/// http and https alike, the URL given to curl on its stdin (a config, never its command
/// line, which any local user can read), retried on no answer, 429 and 5xx with a growing
/// wait, until the notification's deadline. The URL is a secret: it is redacted from every
/// error kept. A URL that renders empty turns the notification off (nothing is posted or
/// recorded): a playbook can name a webhook its users set when they have one.
struct CurlNotifier: Notifier {
    let playbook: Playbook
    let overrides: [String: VarValue]
    let extraSecrets: [String]

    func send(_ spec: NotifySpec, context: HookContext) async -> NotifyRecord? {
        var record = NotifyRecord(event: context.point, name: spec.name, format: spec.format.rawValue, delivered: false)
        let started = ContinuousClock.now
        defer { record.durationMs = started.duration(to: .now).milliseconds }
        let scope = HookSpec.scope(playbook: playbook, overrides: overrides, context: context)
        let url: String
        do { url = try scope.render(spec.url, as: .text).text } catch {
            record.error = "url: \(error.message)"
            return record
        }
        if url.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        let redactor = Redactor(scope: scope, extra: extraSecrets + [url])
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            record.error = "url: expected an http:// or https:// URL"
            return record
        }
        guard let curl = LocalProcess.find("curl") else {
            record.error = "curl is not installed (fleetup posts webhooks with curl; Debian: apt install curl)"
            return record
        }
        let base = NSTemporaryDirectory() + "fleetup-notify-\(getpid())-\(UUID().uuidString.prefix(8))"
        let body = base + ".json", config = base + ".cfg", answer = base + ".out"
        defer { for f in [body, config, answer] { unlink(f) } }
        do {
            try LocalProcess.writeFile(body, Array(Self.body(spec.format, context).render().utf8), mode: 0o600)
            try LocalProcess.writeFile(
                config,
                Array(
                    """
                    url = "\(Self.quoted(url))"
                    request = "POST"
                    header = "Content-Type: application/json"
                    data-binary = "@\(Self.quoted(body))"
                    output = "\(Self.quoted(answer))"
                    write-out = "%{http_code}"

                    """.utf8), mode: 0o600)
        } catch {
            record.error = "\(error)"
            return record
        }
        let deadline = started + spec.deadline
        var wait = Duration.seconds(1)
        while ContinuousClock.now < deadline && !Task.isCancelled {
            record.attempts += 1
            let seconds = max(0.1, DurationText.seconds(ContinuousClock.now.duration(to: deadline)))
            let exit = await Self.curl(curl, config: config, maxTime: seconds, until: deadline)
            let code = Int(exit?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            record.status = code == 0 ? nil : code
            if exit?.status == 0, (200..<300).contains(code) {
                record.delivered = true
                record.error = nil
                return record
            }
            if code != 0 {
                record.error = "HTTP \(code)"
                // A request the webhook refuses will be refused again (but for "slow down").
                if (400..<500).contains(code) && code != 429 { return record }
            } else {
                let said = exit.map { $0.stderr.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
                record.error = redactor.redact(said.isEmpty ? "no answer" : said)
                // What another try cannot change: a URL curl cannot use, a certificate it does
                // not trust (curl's exit codes 1, 3, 58, 60, 77, 83).
                if let status = exit?.status, Self.final.contains(status) { return record }
            }
            let pause = min(wait, ContinuousClock.now.duration(to: deadline))
            if pause <= .zero { break }
            try? await Task.sleep(for: pause)
            wait *= 2
        }
        if ContinuousClock.now >= deadline { record.error = (record.error.map { $0 + "; " } ?? "") + "its deadline passed" }
        return record
    }

    /// One curl, off the cooperative pool, killed if it outlives the deadline.
    private static func curl(
        _ curl: String, config: String, maxTime: Double, until deadline: ContinuousClock.Instant
    ) async
        -> LocalProcess.Exit?
    {
        guard
            let process = try? LocalProcess(
                curl, ["--silent", "--show-error", "--max-time", String(format: "%.1f", maxTime), "--config", "-"], stdin: config)
        else { return nil }
        return try? await Blocking.run("fleetup-notify") {
            process.watch(until: deadline + .seconds(1)) { kill(process.pid, SIGKILL) }.exit
        }
    }

    static let final: Set<Int32> = [1, 3, 58, 60, 77, 83]

    /// A value inside curl's config quotes.
    static func quoted(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(
            of: "\n", with: "\\n")
    }

    /// What is posted: an incoming-webhook message, or `fleetup.notify/1`.
    static func body(_ format: NotifySpec.Format, _ c: HookContext) -> JSON {
        let text = NotifySpec.text(c)
        switch format {
        case .mattermost: return .object([("text", .string(text)), ("username", .string("fleetup"))])
        case .slack: return .object([("text", .string(text))])
        case .json:
            return .object(
                [("schema", .string("fleetup.notify/1")), ("event", .string(c.point.rawValue))] + LocalHookRunner.facts(c)
                    + [("text", .string(text))])
        }
    }
}
