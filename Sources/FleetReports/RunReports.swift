import FleetCore

/// The four renderings of a run's record (docs/reports.md).
public enum RunReportFormat: String, Sendable, Hashable, CaseIterable {
    /// `fleetup.run/2`, for programs.
    case json
    /// For a chat message or a ticket.
    case markdown = "md"
    /// One self-contained page: tables, a timeline, the failures in full.
    case html
    /// A test suite per stage and a test case per host, for CI.
    case junit

    /// Its name in a run folder and in `--output DIR` (the names `RunFolder` reserves).
    public var fileName: String {
        switch self {
        case .json: return "run.json"
        case .markdown: return "report.md"
        case .html: return "report.html"
        case .junit: return "report.junit.xml"
        }
    }
}

/// The run report: what `fleetup run` and `fleetup resume` write at the end of every run,
/// and what `fleetup report` renders again from a journal.
public enum RunReports {
    /// `record` in `format`. Pure: the same record gives the same bytes.
    public static func render(_ record: RunRecord, _ format: RunReportFormat) -> String {
        switch format {
        case .json: return RunJSON.render(record)
        case .markdown: return RunMarkdown.render(record)
        case .html: return RunHTML.render(record)
        case .junit: return RunJUnit.render(record)
        }
    }

    /// The four reports as files, under the run folder's names (`run.json`, `report.md`,
    /// `report.html`, `report.junit.xml`), every one rendered: FleetStore writes them.
    public static func files(_ record: RunRecord) -> [(name: String, bytes: [UInt8])] {
        RunReportFormat.allCases.map { ($0.fileName, $0 == .json ? RunJSON.bytes(record) : Array(render(record, $0).utf8)) }
    }
}

/// What every format says the same way: the outcome line, the hints.
enum RunText {
    /// `halted`, `succeeded`…, or `unfinished` while the journal has no end.
    static func outcome(_ r: RunRecord) -> String { r.outcome?.rawValue ?? "unfinished" }

    /// ✅ succeeded, ❌ failed or halted, ⏸️ interrupted, ⏳ waiting, 🔄 unfinished.
    static func mark(_ r: RunRecord) -> String {
        switch r.outcome {
        case .succeeded: return "✅"
        case .failed, .halted: return "❌"
        case .interrupted: return "⏸️"
        case .waitingForApproval: return "⏳"
        case nil: return "🔄"
        }
    }

    /// The same mark for HTML pages, from glyphs Debian's default fonts (DejaVu) have: a
    /// browser without an emoji font drew the emoji as an empty box.
    static func htmlMark(_ r: RunRecord) -> String {
        switch r.outcome {
        case .succeeded: return "✔"
        case .failed, .halted: return "✘"
        case .interrupted: return "‖"
        case .waitingForApproval: return "…"
        case nil: return "↻"
        }
    }

    /// `mattermost → 5.3.0 halted: 1 of 3 hosts in the batch failed, more than max_fail_percentage 0%`.
    static func headline(_ r: RunRecord) -> String {
        let all = StatusCounts(r.hosts)
        let what = "\(r.header.playbook) → \(r.header.target) \(outcome(r))"
        switch r.outcome {
        case .succeeded:
            return "\(what): \(all.total) \(all.total == 1 ? "host" : "hosts") upgraded or already current"
        case .failed:
            let failed = r.hosts.filter { $0.outcome?.countsAsFailure == true }.count
            return "\(what): \(failed) of \(all.total) hosts failed, within the failure policy"
        case .halted:
            return "\(what): \(r.haltReason ?? "the failure policy was breached")"
        case .interrupted:
            return "\(what): stopped by Ctrl-C or SIGTERM"
        case .waitingForApproval:
            return
                "\(what): \(waitingGate(r).map { "the gate after \($0.after) (before \($0.next)) was not approved" } ?? "a gate was not approved")"
        case nil:
            return "\(what): the journal has no end (still running, or fleetup was killed)"
        }
    }

    /// The gate nobody approved: the stage it follows (what `--approve` names) and the next.
    static func waitingGate(_ r: RunRecord) -> (after: String, next: String)? {
        let names = r.header.stages.map(\.name)
        guard let i = names.firstIndex(where: { r.gates[$0] == .notApproved }), i + 1 < names.count else { return nil }
        return (names[i], names[i + 1])
    }

    /// What to do next, one line each: resume, approve, retry, restore.
    static func hints(_ r: RunRecord) -> [String] {
        var out: [String] = []
        let id = r.header.id
        switch r.outcome {
        case .halted, .failed:
            if r.hosts.contains(where: { $0.outcome?.countsAsFailure == true }) {
                out.append(
                    "after fixing the cause: `fleetup resume \(id)` goes on with the hosts not done; `--retry-failed` also takes the failed ones again"
                )
            }
        case .interrupted, nil:
            out.append("`fleetup resume \(id)` goes on where the run stopped (hosts that were mid-step are checked first)")
        case .waitingForApproval:
            let gate = waitingGate(r)
            out.append(
                "`fleetup resume \(id) --approve \(gate?.after ?? "STAGE")` (or `fleetup approve \(id) --stage \(gate?.after ?? "STAGE")`) goes on\(gate.map { " with \($0.next)" } ?? "")"
            )
        case .succeeded:
            break
        }
        let restore = r.hosts.filter { $0.result?.restore != nil }.map(\.host)
        if !restore.isEmpty {
            out.append(
                "restore \(HostList.compress(restore)) from the backups named in \(restore.count == 1 ? "its failure" : "their failures") before resuming: past the point of no return nothing was rolled back"
            )
        }
        return out
    }

    /// `1.2s`, `4m12s`, `250ms`: a duration in milliseconds as playbooks write them.
    static func duration(_ ms: Int?) -> String {
        guard let ms else { return "–" }
        return DurationText.format(.milliseconds(ms))
    }

    /// `2026-12-02 03:15:01 UTC` from a journal time.
    /// Who did what, one line each, when anything happened besides the start: `started by
    /// alice@ops1`, `gate after staging: approved (approved by bob@ops2 at …: looks good)`,
    /// `resumed by carol@ops3 (retrying failed hosts)`, `halted: 1 of 3 hosts …`.
    static func actions(_ r: RunRecord) -> [(at: WallTime, text: String)] {
        guard r.actions.count > 1 else { return [] }
        return r.actions.map { a in
            let text: String
            switch a.kind {
            case .started: text = "started by \(a.by ?? "?")"
            case .resumed: text = "resumed by \(a.by ?? "?")" + (a.detail.map { " (\($0))" } ?? "")
            case .gate:
                text = "gate after \(a.stage ?? "?"): \(a.decision?.rawValue ?? "?")" + (a.detail.map { " (\($0))" } ?? "")
            case .halted: text = "halted: \(a.detail ?? "")"
            case .hook:
                // The summary, then the last lines the hook printed, on one line.
                let tail = a.hook.map { Redactor.tail($0.output.trimmingCharacters(in: .whitespacesAndNewlines), lines: 3) } ?? ""
                text = (a.detail ?? "hook") + (tail.isEmpty ? "" : ": " + tail.split(separator: "\n").joined(separator: " / "))
            case .notification: text = a.detail ?? "notification"
            }
            return (a.at, text)
        }
    }

    static func when(_ time: WallTime?) -> String {
        time.map { $0.tableText + " UTC" } ?? "–"
    }

    /// A step in one line: `step 3 "unpack the release" of 5.1.0 -> 5.2.0: exit 2 (1.2s)`.
    static func step(_ s: StepRecord) -> String {
        let ref = s.step
        let kind = ref.phase == .rollback ? "rollback step" : "step"
        let attempt = ref.attempt > 1 ? ", attempt \(ref.attempt)" : ""
        return
            "\(kind) \(RunText.ordinal(ref.index)) \"\(ref.name)\" of \(ref.from) -> \(ref.to): \(s.outcomeText) (\(duration(s.durationMs))\(attempt))"
    }

    /// A 0-based step index as people count (`index + 1`), for any index a journal holds:
    /// one edited to Int.max made `+ 1` overflow, a trap.
    static func ordinal(_ index: Int) -> String {
        index < Int.max ? String(index + 1) : "9223372036854775808"
    }

    /// The last `lines` lines of an output tail, and how many were left out.
    static func tail(_ text: String, lines: Int) -> (text: String, omitted: Int) {
        var all = text.split(separator: "\n", omittingEmptySubsequences: false)
        if all.last == "" { all.removeLast() }
        guard all.count > lines else { return (all.joined(separator: "\n"), 0) }
        return (all.suffix(lines).joined(separator: "\n"), all.count - lines)
    }

    /// Control characters other than tab and newline (a terminal's colour codes) as U+FFFD:
    /// they mean nothing in a report and some formats cannot hold them.
    static func printable(_ raw: String) -> String {
        let text = raw.contains("\r\n") ? raw.replacingOccurrences(of: "\r\n", with: "\n") : raw
        guard text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) })
        else {
            return text
        }
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            let bad = (u.value < 0x20 && u != "\n" && u != "\t") || (0x7F...0x9F).contains(u.value)
            out.append(bad ? "\u{FFFD}" : u)
        }
        return String(out)
    }

    /// The probes that were not healthy, in a host's health checks that failed.
    static func failedProbes(_ h: HostRecord) -> [(HealthRecord, ProbeRecord)] {
        h.health.filter { !$0.healthy }.flatMap { check in check.probes.filter { !$0.healthy }.map { (check, $0) } }
    }
}
