import FleetCore

/// The renderings of a fleet's status (docs/reports.md, "The status report").
public enum StatusReportFormat: String, Sendable, Hashable, CaseIterable {
    /// A table for the terminal.
    case text
    /// `fleetup.status/1`, for programs.
    case json
    /// For a chat message or a ticket.
    case markdown = "md"
    /// One self-contained page with a bar chart of the versions per stage.
    case html
    /// A test suite per stage and a test case per host, for CI.
    case junit

    /// A file name for a report in this format (`status.html`), as the tests keep them.
    public var fileName: String {
        switch self {
        case .text: return "status.txt"
        case .json: return "status.json"
        case .markdown: return "status.md"
        case .html: return "status.html"
        case .junit: return "status.junit.xml"
        }
    }
}

/// `fleetup status`'s report: pure renderings of a `FleetStatus`.
public enum StatusReports {
    /// `status` in `format`. The same status gives the same bytes.
    /// `style` colours the text format only (docs/cli.md).
    public static func render(_ status: FleetStatus, _ format: StatusReportFormat, style: TextStyle = .plain) -> String {
        switch format {
        case .text: return StatusTextReport.render(status, style: style)
        case .json: return StatusJSON.render(status)
        case .markdown: return StatusMarkdown.render(status)
        case .html: return StatusHTML.render(status)
        case .junit: return StatusJUnit.render(status)
        }
    }
}

/// What every status format says the same way.
enum StatusText {
    /// `mattermost → 5.3.0`, `mattermost`, or `fleet` without a playbook.
    static func title(_ s: FleetStatus) -> String {
        guard let book = s.playbook else { return "fleet" }
        return s.target.map { "\(book) → \($0)" } ?? book
    }

    /// ✅ when the status passes (exit 0), else ❌.
    static func mark(_ s: FleetStatus) -> String { s.passes ? "✅" : "❌" }
    /// For HTML: glyphs Debian's default fonts have (see `RunText.htmlMark`).
    static func htmlMark(_ s: FleetStatus) -> String { s.passes ? "✔" : "✘" }

    /// `mattermost → 5.3.0: 2 of 8 hosts need a look: 1 unreachable, 1 unhealthy; 4 not on 5.3.0`,
    /// or `…: all 8 hosts reachable and healthy, all on 5.3.0`.
    static func headline(_ s: FleetStatus) -> String {
        let n = s.hosts.count
        let failing = s.hosts.filter { !s.problems($0).isEmpty }.count
        var line: String
        if failing == 0 {
            let healthy = s.hosts.contains { $0.healthy != nil } ? " and healthy" : ""
            line = "\(title(s)): " + (n == 1 ? "the host is reachable\(healthy)" : "all \(n) hosts reachable\(healthy)")
        } else {
            var parts: [String] = []
            if !s.unreachable.isEmpty { parts.append("\(s.unreachable.count) unreachable") }
            if !s.unhealthy.isEmpty { parts.append("\(s.unhealthy.count) unhealthy") }
            if s.requireTarget && !s.offTarget.isEmpty { parts.append("\(s.offTarget.count) off target") }
            line = "\(title(s)): \(failing) of \(n) \(n == 1 ? "host needs" : "hosts need") a look: " + parts.joined(separator: ", ")
        }
        if let t = s.target, !(s.requireTarget && failing > 0) {
            let off = s.offTarget.count
            line += off == 0 ? ", all on \(t)" : "; \(off) not on \(t)"
        }
        return line
    }

    /// `5.3.0` or `unknown`.
    static func version(_ v: String?) -> String { v ?? "unknown" }

    /// `5.0.0 ×2, 5.3.0 ×4, unknown ×2`.
    static func counts(_ d: [VersionCount]) -> String {
        d.isEmpty ? "no hosts" : d.map { "\(version($0.version)) ×\($0.hosts.count)" }.joined(separator: ", ")
    }

    /// `healthy`, `unhealthy`, or `–` when not checked.
    static func health(_ h: StatusHost) -> String {
        switch h.healthy {
        case true?: return "healthy"
        case false?: return "unhealthy"
        case nil: return "–"
        }
    }

    /// `on-target`, `behind`…; `–` without a target.
    static func drift(_ s: FleetStatus, _ h: StatusHost) -> String { s.drift(h)?.rawValue ?? "–" }

    /// `on the target 5.3.0`, `behind 5.3.0`, `ahead of 5.3.0`, `version unknown`; nil without a target.
    static func driftPhrase(_ s: FleetStatus, _ h: StatusHost) -> String? {
        guard let t = s.target, let d = s.drift(h) else { return nil }
        switch d {
        case .onTarget: return "on the target \(t)"
        case .behind: return "behind \(t)"
        case .ahead: return "ahead of \(t)"
        case .unknown: return "version unknown"
        }
    }

    /// `20261202-031501-3f2a upgraded (2026-12-02 03:16:01 UTC)`, or `–`.
    static func lastRun(_ l: LastRun?) -> String {
        guard let l else { return "–" }
        return "\(l.runID) \(l.outcome) (\(RunText.when(l.at)))"
    }

    /// `2 behind (mm-eu-02, mm-us-01), 2 unknown (…)`; nil without a target.
    static func drift(_ s: FleetStatus) -> String? {
        guard let t = s.target else { return nil }
        let off = s.offTarget
        if off.isEmpty { return "every host is on \(t)" }
        let parts = [Drift.behind, .ahead, .unknown].compactMap { d -> String? in
            let names = off.filter { s.drift($0) == d }.map(\.name)
            return names.isEmpty ? nil : "\(names.count) \(d.rawValue) (\(HostList.compress(names)))"
        }
        return "\(off.count) of \(s.hosts.count) not on \(t): " + parts.joined(separator: ", ")
    }

    /// Where versions came from, for the about line.
    static func versionSource(_ s: FleetStatus) -> String {
        switch s.versionSource {
        case .playbook?: return "the playbook's version command"
        case .versionCommand?: return "--version-cmd"
        case nil: return "not read (no playbook, no --version-cmd)"
        }
    }

    /// Hosts whose version could not be read although reachable.
    static func versionsNotRead(_ s: FleetStatus) -> [StatusHost] {
        guard s.versionSource != nil else { return [] }
        return s.hosts.filter { $0.reachable && $0.version == nil }
    }
}
