/// A webhook a playbook posts to on the run's events (`notify:`; docs/playbooks.md,
/// "Notifications"). The URL is a template whose value is a secret wherever it comes from:
/// it is never printed, journaled or reported.
public struct NotifySpec: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// Mattermost's incoming webhook: `{"text": …, "username": "fleetup"}`.
        case mattermost
        /// Slack's incoming webhook: `{"text": …}`.
        case slack
        /// `fleetup.notify/1`: the event's facts and the text, for a program.
        case json
    }

    public var name: String
    public var url: Template
    public var format: Format
    /// The events it posts on.
    public var on: Set<HookPoint>
    /// All tries of one message together (then it is given up: the run never waits longer).
    public var deadline: Duration
    public var line: Int?

    public static let defaultEvents: Set<HookPoint> = [.beforeRun, .onGate, .onHalt, .afterRun]
    public static let defaultDeadline = Duration.seconds(30)

    public init(
        name: String, url: Template, format: Format = .json, on: Set<HookPoint> = NotifySpec.defaultEvents,
        deadline: Duration = NotifySpec.defaultDeadline, line: Int? = nil
    ) {
        self.name = name
        self.url = url
        self.format = format
        self.on = on
        self.deadline = deadline
        self.line = line
    }

    static func hosts(_ n: Int) -> String { "\(n) \(n == 1 ? "host" : "hosts")" }

    /// The one-line message of an event: what a person in the channel needs.
    public static func text(_ c: HookContext) -> String {
        let run = "fleetup run \(c.runID) (\(c.playbook) → \(c.target))"
        switch c.point {
        case .beforeRun:
            return "\(run) starts\(c.hosts.isEmpty ? "" : " on \(hosts(c.hosts.count))")"
        case .beforeStage:
            return "\(run): stage \(c.stage ?? "?") starts\(c.hosts.isEmpty ? "" : " (\(hosts(c.hosts.count)))")"
        case .afterBatch:
            return "\(run): \(c.stage ?? "?") batch \(c.batch.map(String.init) ?? "?") done (\(c.hosts.joined(separator: ", ")))"
        case .onGate:
            let how = c.reason == "soak" ? "soaking" : "waiting for an approval: fleetup approve \(c.runID) --stage \(c.stage ?? "STAGE")"
            return "\(run): at the gate after \(c.stage ?? "?") before \(c.next ?? "?"), \(how)"
        case .onHalt:
            return "\(run) HALTED: \(c.reason ?? "")"
        case .afterRun:
            return "\(run) \(c.outcome?.rawValue ?? "ended")\(c.reason.map { ": \($0)" } ?? "")"
        }
    }
}

/// How one notification went, as the journal and the reports keep it (never the URL).
public struct NotifyRecord: Sendable, Hashable, Codable {
    public var event: HookPoint
    public var name: String
    public var format: String
    public var delivered: Bool
    /// The last answer's HTTP status, if one came.
    public var status: Int?
    public var attempts: Int
    /// Why it was not delivered (secrets redacted), or nil.
    public var error: String?
    public var durationMs: Int

    public init(
        event: HookPoint, name: String, format: String, delivered: Bool, status: Int? = nil, attempts: Int = 0, error: String? = nil,
        durationMs: Int = 0
    ) {
        self.event = event
        self.name = name
        self.format = format
        self.delivered = delivered
        self.status = status
        self.attempts = attempts
        self.error = error
        self.durationMs = durationMs
    }

    /// `after_run notification "team": delivered (HTTP 200, 2 tries)`.
    public var summary: String {
        let tries = "\(attempts) \(attempts == 1 ? "try" : "tries")"
        let how = delivered ? "delivered (HTTP \(status ?? 0), \(tries))" : "not delivered after \(tries): \(error ?? "no answer")"
        return "\(event.rawValue) notification \"\(name)\": \(how)"
    }
}
