import FleetCore

/// One line of `fleetup runs`: a stored run and how far it got.
public struct RunListing: Sendable {
    public var id: String
    /// nil when the journal could not be read.
    public var record: RunRecord?
    /// The fleet's lock is held by this run's process, still alive on this machine.
    public var running: Bool
    /// Why the journal could not be read (`path:line: …`).
    public var problem: String?
    /// Why the record, read all the same, is not the whole run (entries missing).
    public var warning: String?

    public init(id: String, record: RunRecord?, running: Bool = false, problem: String? = nil, warning: String? = nil) {
        self.id = id
        self.record = record
        self.running = running
        self.problem = problem
        self.warning = warning
    }

    /// The run's outcome; `running` or `unfinished` while its journal has no end (running
    /// when its process still holds the fleet's lock); `unreadable` for a bad journal.
    public var outcome: String {
        if let o = record?.outcome { return o.rawValue }
        if problem != nil || record == nil { return "unreadable" }
        if running, let stage = record?.waitingAt { return "waiting at the gate after \(stage)" }
        return running ? "running" : "unfinished"
    }
}

/// `fleetup runs`: the stored runs, newest first, as a table or `fleetup.runs/1` JSON.
public enum RunList {
    public static func text(_ runs: [RunListing], style: TextStyle = .plain) -> String {
        guard !runs.isEmpty else { return "no runs yet\n" }
        let rows =
            [["ID", "STARTED (UTC)", "PLAYBOOK", "TARGET", "OUTCOME", "HOSTS"]]
            + runs.map { run -> [String] in
                guard let r = run.record else { return [run.id, "–", "–", "–", run.outcome, run.problem ?? ""] }
                let when = r.startedAt.tableText
                let hosts = StatusCounts(r.hosts).text + (run.warning.map { " (incomplete: \($0))" } ?? "")
                return [run.id, when, r.header.playbook, r.header.target, run.outcome, hosts]
            }
        let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            (0..<5).map { c in
                let cell = row[c].padding(widths[c])
                return c == 4 && row[0] != "ID" ? style.paint(cell, tone(row[c])) : cell
            }.joined(separator: "  ") + "  " + row[5]
        }.joined(separator: "\n") + "\n"
    }

    private static func tone(_ outcome: String) -> TextStyle.Tone {
        if let o = RunOutcome(rawValue: outcome) { return TextStyle.tone(o) }
        return outcome == "unreadable" ? .bad : .warn  // running, unfinished, waiting at a gate
    }

    public static func json(_ runs: [RunListing]) -> String {
        let items: [JSON] = runs.map { run in
            let r = run.record
            return .object([
                ("id", .string(run.id)),
                ("started_at", .time(r?.startedAt)),
                ("finished_at", .time(r?.finishedAt)),
                ("user", .text(r?.header.user)),
                ("playbook", .text(r?.header.playbook)),
                ("target", .text(r?.header.target)),
                ("outcome", .string(run.outcome)),
                ("halt_reason", .text(r?.haltReason)),
                ("summary", r.map { RunJSON.summary(StatusCounts($0.hosts)) } ?? .null),
                ("error", .text(run.problem)),
                ("warning", .text(run.warning)),
            ])
        }
        return JSON.object([("schema", .string("fleetup.runs/1")), ("runs", .array(items))]).render() + "\n"
    }
}
