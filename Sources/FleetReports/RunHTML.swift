import FleetCore

/// The run report as ONE self-contained HTML page: inline CSS, an inline SVG timeline, no
/// script, and a Content-Security-Policy that lets the page load nothing at all (only its
/// own inline styles), so it can be mailed, attached and opened offline. Every text from the
/// record goes through `escape`.
enum RunHTML {
    static func render(_ r: RunRecord) -> String {
        let h = r.header
        let title = "\(RunText.htmlMark(r)) \(RunText.headline(r))"
        var s = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>fleetup run \(escape(h.id)): \(escape(h.playbook)) → \(escape(h.target)) \(escape(RunText.outcome(r)))</title>
            <style>\(RunHTMLStyle.css)\(RunTimeline.isGrouped(r) ? RunHTMLStyle.groupedCSS : "")</style>
            </head>
            <body>
            <header>
            <h1 class="outcome outcome-\(escape(RunText.outcome(r)))">\(escape(title))</h1>

            """
        s += about(r) + "</header>\n"
        s += "<section id=\"summary\">\n<h2>Hosts by outcome</h2>\n<p class=\"chips\">"
        let all = StatusCounts(r.hosts)
        for status in HostStatus.all where all[status] > 0 {
            s += "<span class=\"chip \(statusClass(status))\">\(all[status]) \(escape(status.label))</span> "
        }
        s += "</p>\n</section>\n"
        s += section("stages", "Stages", stageTable(r))
        let actions = RunText.actions(r)
        if !actions.isEmpty {
            s += section(
                "actions", "Who did what",
                "<ul>\n" + actions.map { "<li>\(escape(RunText.when($0.at))): \(escape($0.text))</li>\n" }.joined() + "</ul>\n")
        }
        s += section("batches", "Batches", batchTable(r))
        s += section("timeline", "Timeline", timelineNote(r) + RunTimeline.svg(r) + "\n")
        s += section(
            "hosts", "Hosts",
            RunTimeline.isGrouped(r) ? groupedHosts(r) : hostTable(r, r.hosts.enumerated().map { ($0.offset, $0.element) }))
        let failures = r.hosts.enumerated().filter { RunTimeline.needsLook($0.element) }.map { (index: $0.offset, host: $0.element) }
        if !failures.isEmpty { s += section("failures", "Failures", failureList(r, failures)) }
        let hints = RunText.hints(r)
        if !hints.isEmpty {
            s += section("next", "Next", "<ul>\n" + hints.map { "<li>\(codeSpans($0))</li>\n" }.joined() + "</ul>\n")
        }
        s += "<footer>fleetup \(escape(h.fleetupVersion)) · rendered from the journal up to entry \(r.lastSeq)</footer>\n"
        return s + "</body>\n</html>\n"
    }

    static func section(_ id: String, _ title: String, _ body: String) -> String {
        "<section id=\"\(id)\">\n<h2>\(escape(title))</h2>\n\(body)</section>\n"
    }

    static func about(_ r: RunRecord) -> String {
        let h = r.header
        var rows: [(String, String)] = [
            ("run", h.id), ("by", "\(h.user)@\(h.machine)"), ("started", RunText.when(r.startedAt)),
            ("finished", r.finishedAt.map(RunText.when) ?? "not yet (the journal has no end)"),
            ("took", RunText.duration(r.durationMs)),
            ("playbook", "\(h.playbook) (\(h.playbookFile))"), ("inventories", h.inventories.joined(separator: ", ")),
            ("target", h.target),
        ]
        if let l = h.limit { rows.append(("limit", l)) }
        if !h.overrides.isEmpty { rows.append(("--var", h.overrides.joined(separator: ", "))) }
        rows += [
            ("policy", h.policy), ("pause", RunText.duration(h.pauseMs)), ("gate", h.gate), ("forks", "\(h.forks)"),
            ("rollback", h.rollback ? "on" : "off (--no-rollback)"),
        ]
        if r.resumes > 0 { rows.append(("resumed", "\(r.resumes) \(r.resumes == 1 ? "time" : "times")")) }
        if let why = r.haltReason { rows.append(("halted", why)) }
        return "<dl class=\"about\">\n" + rows.map { "<dt>\(escape($0.0))</dt><dd>\(escape($0.1))</dd>\n" }.joined() + "</dl>\n"
    }

    static func countCells(_ c: StatusCounts, _ columns: [HostStatus]) -> String {
        columns.map { "<td class=\"num\">\(c[$0] == 0 ? "·" : "\(c[$0])")</td>" }.joined()
    }

    static func columnHeads(_ columns: [HostStatus]) -> String {
        columns.map { "<th class=\"num\"><span class=\"dot \(statusClass($0))\"></span>\(escape($0.label))</th>" }.joined()
    }

    static func stageTable(_ r: RunRecord) -> String {
        let columns = HostStatus.all.filter { StatusCounts(r.hosts)[$0] > 0 }
        var s = "<table class=\"stages\">\n<thead><tr><th>stage</th><th class=\"num\">hosts</th><th class=\"num\">batches</th>"
        s += columnHeads(columns) + "<th>gate after</th></tr></thead>\n<tbody>\n"
        for stage in r.header.stages {
            let c = StatusCounts(r.hosts(stage: stage.name))
            s += "<tr><td>\(escape(stage.name))</td><td class=\"num\">\(c.total)</td><td class=\"num\">\(stage.batches.count)</td>"
            s += countCells(c, columns) + "<td>\(escape(r.gates[stage.name]?.rawValue ?? "–"))</td></tr>\n"
        }
        return s + "</tbody>\n</table>\n"
    }

    static func batchTable(_ r: RunRecord) -> String {
        let columns = HostStatus.all.filter { StatusCounts(r.hosts)[$0] > 0 }
        var s = "<table class=\"batches\">\n<thead><tr><th>stage</th><th class=\"num\">batch</th><th>hosts</th>"
        s += "<th class=\"num\">halts at</th>" + columnHeads(columns) + "<th class=\"num\">took</th></tr></thead>\n<tbody>\n"
        for stage in r.header.stages {
            for (b, names) in stage.batches.enumerated() {
                let hosts = r.hosts(stage: stage.name, batch: b + 1)
                let halt = b < stage.haltAt.count ? stage.haltAt[b] : 0
                s += "<tr><td>\(escape(stage.name))</td><td class=\"num\">\(b + 1)</td><td>\(escape(HostList.compress(names)))</td>"
                s += "<td class=\"num\">\(halt > names.count ? "never" : "\(halt) failed")</td>" + countCells(StatusCounts(hosts), columns)
                let span = RunJUnit.span(hosts, in: r)
                s += "<td class=\"num\">\(hosts.contains { $0.startedAt != nil } ? escape(RunText.duration(span)) : "–")</td></tr>\n"
            }
        }
        return s + "</tbody>\n</table>\n"
    }

    static func timelineNote(_ r: RunRecord) -> String {
        guard RunTimeline.isGrouped(r) else {
            return
                "<p class=\"note\">Each host's bar runs from its start to its finish, relative to the run's start; colour by outcome.</p>\n"
        }
        return """
            <p class="note">\(r.hosts.count) hosts: a row per batch. Its bands, one per outcome, run from the first start to the \
            last finish of the batch's hosts with that outcome, relative to the run's start; a band's thickness is the outcome's \
            share of the batch. Each host that needs a look has a row of its own under its batch (the first \
            \(RunTimeline.attentionRows)); every host is in the table below.</p>

            """
    }

    /// The hosts of a large run: a folded table per batch (a browser lays out none of them
    /// until it is opened, and its find opens the one holding a match).
    static func groupedHosts(_ r: RunRecord) -> String {
        var s = "<p class=\"note\">\(r.hosts.count) hosts, folded by batch: open one, or search the page for a host's name.</p>\n"
        for group in BatchGroup.all(r) {
            s += "<details class=\"hosts\"><summary>\(escape(group.title)) · \(group.hosts.count) hosts: "
            s += "\(escape(StatusCounts(group.hosts.map(\.host)).text))</summary>\n\(hostTable(r, group.hosts))</details>\n"
        }
        return s
    }

    /// Each host that needs a look in full; in a large run, those past the first
    /// `RunTimeline.attentionRows` in one folded section.
    static func failureList(_ r: RunRecord, _ failures: [(index: Int, host: HostRecord)]) -> String {
        let shown = RunTimeline.isGrouped(r) ? RunTimeline.attentionRows : failures.count
        var s = failures.prefix(shown).map { RunHTMLDetails.failure($0.host, index: $0.index + 1) }.joined()
        if failures.count > shown {
            s += "<details class=\"more-failures\"><summary>\(failures.count - shown) more hosts that need a look</summary>\n"
            s += failures.dropFirst(shown).map { RunHTMLDetails.failure($0.host, index: $0.index + 1) }.joined() + "</details>\n"
        }
        return s
    }

    /// Rows of the hosts given, each with its place in the record.
    static func hostTable(_ r: RunRecord, _ hosts: [(index: Int, host: HostRecord)]) -> String {
        var s = "<table class=\"hosts\">\n<thead><tr><th>host</th><th>stage</th><th class=\"num\">batch</th><th>outcome</th>"
        s +=
            "<th>before</th><th>after</th><th>path</th><th class=\"num\">started</th><th class=\"num\">took</th><th>message</th></tr></thead>\n<tbody>\n"
        for (i, h) in hosts {
            let status = HostStatus(h)
            let name =
                RunTimeline.needsLook(h)
                ? "<a href=\"#failure-\(i + 1)\">\(escape(h.host))</a>" : escape(h.host)
            s += "<tr class=\"host \(statusClass(status))\" id=\"host-\(i + 1)\" data-host=\"\(escape(h.host))\">"
            s += "<td>\(name)</td><td>\(escape(h.stage))</td><td class=\"num\">\(h.batch)</td>"
            s += "<td><span class=\"dot \(statusClass(status))\"></span>\(escape(status.label))</td>"
            s += "<td>\(escape(h.result?.versionBefore ?? "–"))</td><td>\(escape(h.result?.versionAfter ?? "–"))</td>"
            s += "<td>\(escape((h.result?.path ?? []).joined(separator: " → ")))</td>"
            s += "<td class=\"num\">\(r.offsetMs(h.startedAt).map { "+" + escape(RunText.duration($0)) } ?? "–")</td>"
            s += "<td class=\"num\">\(escape(RunText.duration(h.durationMs)))</td>"
            s += "<td>\(escape(h.result?.message ?? ""))</td></tr>\n"
        }
        return s + "</tbody>\n</table>\n"
    }

    /// `st-rolled-back`: the CSS class that colours a status.
    static func statusClass(_ s: HostStatus) -> String { "st-" + s.label }

    /// A hint with its backticked commands as `<code>`.
    static func codeSpans(_ text: String) -> String {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? "<code>\(escape(String($0.element)))</code>" : escape(String($0.element)) }.joined()
    }

    /// Text for HTML content and attribute values: `& < > " '` as references, and control
    /// characters other than tab and newline (a terminal's colour codes) as U+FFFD.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) { out += "\u{FFFD}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }
}
