import FleetCore

/// The run report in Markdown, short enough for a chat message or a ticket: the outcome
/// line, a table of hosts by outcome per stage, each failure with the tail of its output,
/// and what to do next. The full story is in the HTML and JSON reports.
enum RunMarkdown {
    /// Output lines kept per block: a chat message is not a log viewer.
    static let tailLines = 15

    static func render(_ r: RunRecord) -> String {
        var out = "### \(RunText.mark(r)) \(inline(RunText.headline(r)))\n\n"
        out += about(r) + "\n\n"
        out += stageTable(r)
        let actions = RunText.actions(r)
        if !actions.isEmpty {
            out += "\n#### Who did what\n\n" + actions.map { "- \(RunText.when($0.at)): \(inline($0.text))\n" }.joined()
        }
        let failures = r.hosts.filter { HostStatus($0).needsAttention }
        if !failures.isEmpty {
            out += "\n#### Failures\n"
            for h in failures { out += "\n" + failure(h) }
        }
        let running = r.hosts.filter { $0.state == .running }
        if !running.isEmpty {
            out += "\n#### Unfinished\n\n"
            for h in running {
                let step = h.inFlightStep.map { " during step \(RunText.ordinal($0.index)) \"\($0.name)\" of \($0.from) -> \($0.to)" } ?? ""
                out += "- **\(inline(h.host))**: started \(RunText.when(h.startedAt))\(inline(step)), no outcome recorded\n"
            }
        }
        let skipped = r.hosts.filter { $0.outcome == .skippedAfterHalt }.map(\.host)
        if !skipped.isEmpty {
            out += "\n**Skipped after the halt** (\(skipped.count)): \(inline(HostList.compress(skipped)))\n"
        }
        let hints = RunText.hints(r)
        if !hints.isEmpty {
            out += "\n#### Next\n\n" + hints.map { "- \(hintLine($0))\n" }.joined()
        }
        return out
    }

    /// `Run `id` by alice@ops1, started …, took 7m12s; 9 hosts: …`.
    static func about(_ r: RunRecord) -> String {
        let h = r.header
        var s = "Run `\(h.id)` by \(inline(h.user))@\(inline(h.machine)), started \(RunText.when(r.startedAt))"
        if let d = r.durationMs { s += ", took \(RunText.duration(d))" }
        if r.resumes > 0 { s += ", resumed \(r.resumes == 1 ? "once" : "\(r.resumes) times")" }
        s += ". Inventories: " + h.inventories.map { inline($0) }.joined(separator: ", ")
        if let l = h.limit { s += ", limit \(inline(l))" }
        let all = StatusCounts(r.hosts)
        s += ". **\(all.total) \(all.total == 1 ? "host" : "hosts")**: \(all.text)."
        return s
    }

    /// One row per stage, a column per status that occurs in the run.
    static func stageTable(_ r: RunRecord) -> String {
        let all = StatusCounts(r.hosts)
        let columns = HostStatus.all.filter { all[$0] > 0 }
        var s = "| stage | hosts | " + columns.map(\.label).joined(separator: " | ") + " | gate after |\n"
        s += "| --- | ---: | " + columns.map { _ in "---: | " }.joined() + "--- |\n"
        for stage in r.header.stages {
            let c = StatusCounts(r.hosts(stage: stage.name))
            s += "| \(inline(stage.name)) | \(c.total) | " + columns.map { "\(c[$0]) | " }.joined()
            s += (r.gates[stage.name]?.rawValue ?? "–") + " |\n"
        }
        return s
    }

    static func failure(_ h: HostRecord) -> String {
        let status = HostStatus(h).label
        var s = "**\(inline(h.host))** · \(inline(h.stage)) batch \(h.batch) · \(status)"
        if let p = h.result?.path, p.count > 1 { s += " · path " + inline(p.joined(separator: " → ")) }
        s += "\n"
        if let m = h.result?.message { s += line(m) + "\n" }
        if let step = h.failedStep {
            s += "\n" + outputs(step)
        }
        for (check, probe) in RunText.failedProbes(h) {
            s += "\nhealth \(inline(check.context)): \(inline(probe.target)) (\(inline(probe.expectation))): \(inline(probe.verdict))\n"
            let attempts = probe.attempts.map { "+\(RunText.duration($0.atMs)) \($0.passed ? "pass" : "FAIL") \($0.detail)" }
            if !attempts.isEmpty { s += fenced(attempts.joined(separator: "\n")) }
            if let logs = probe.logs, !logs.isEmpty { s += "logs:\n" + fenced(logs) }
        }
        let rollback = h.rollbackSteps
        if !rollback.isEmpty {
            let passed = rollback.allSatisfy(\.succeeded)
            s += "\nrollback: " + rollback.map { "\"\(inline($0.step.name))\" \($0.outcomeText)" }.joined(separator: ", ")
            if passed, let after = h.result?.versionAfter { s += "; back on \(inline(after))" }
            s += "\n"
            if let bad = rollback.first(where: { !$0.succeeded }) { s += outputs(bad) }
        }
        if let restore = h.result?.restore { s += "\n> ⚠️ **restore:** \(inline(restore))\n" }
        return s
    }

    /// The step's stdout and stderr tails, fenced, under a line naming the step.
    static func outputs(_ step: StepRecord) -> String {
        let ref = step.step
        let which =
            "\(ref.phase == .rollback ? "rollback step" : "step") \(RunText.ordinal(ref.index)) \"\(ref.name)\" (\(step.outcomeText), \(RunText.duration(step.durationMs)))"
        if step.stdout.isEmpty && step.stderr.isEmpty { return inline(which) + ": no output\n" }
        var s = ""
        if !step.stdout.isEmpty { s += "stdout of \(inline(which)):\n" + fenced(step.stdout) }
        if !step.stderr.isEmpty { s += "stderr of \(inline(which)):\n" + fenced(step.stderr) }
        return s
    }

    /// The last lines of `text` in a code block whose fence no line of it can close.
    static func fenced(_ text: String) -> String {
        let (kept, omitted) = RunText.tail(RunText.printable(text), lines: tailLines)
        var longest = 0, run = 0
        for ch in kept {
            run = ch == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        let note = omitted > 0 ? "[… \(omitted) earlier \(omitted == 1 ? "line" : "lines")]\n" : ""
        return "\(fence)text\n\(note)\(kept)\n\(fence)\n"
    }

    /// A hint: commands (in backticks already) stay code, the rest is escaped.
    static func hintLine(_ hint: String) -> String {
        hint.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? "`\($0.element)`" : inline(String($0.element)) }.joined()
    }

    /// `inline`, for text that starts a line: a leading `#`, `>`, `-`, `+`, `=` or `1.` would
    /// make it a heading, a quote or a list.
    static func line(_ text: String) -> String {
        let s = inline(text)
        guard let first = s.first else { return s }
        if "#>-+=".contains(first) { return "\\" + s }
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, let next = s.dropFirst(digits.count).first, next == "." || next == ")" {
            return digits + "\\" + s.dropFirst(digits.count)
        }
        return s
    }

    /// Text escaped for a Markdown line: no character of it starts emphasis, a link, code,
    /// HTML or a table cell (`>`, `#` and `-` only mean something at the start of a line: see
    /// `line`). Underscores inside words stay as they are (CommonMark does not
    /// read them as emphasis), so `max_fail_percentage` stays readable in the raw text.
    static func inline(_ text: String) -> String {
        let chars = Array(RunText.printable(text).replacingOccurrences(of: "\n", with: " "))
        var out = ""
        for (i, c) in chars.enumerated() {
            switch c {
            case "\\", "`", "*", "[", "]", "<", "|", "~":
                out += "\\" + String(c)
            case "_":
                let before = i > 0 && (chars[i - 1].isLetter || chars[i - 1].isNumber)
                let after = i + 1 < chars.count && (chars[i + 1].isLetter || chars[i + 1].isNumber)
                out += before && after ? "_" : "\\_"
            default:
                out.append(c)
            }
        }
        return out
    }
}
