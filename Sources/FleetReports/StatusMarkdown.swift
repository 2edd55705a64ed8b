import FleetCore

/// The status in Markdown, for a chat message or a ticket: the headline, the versions per
/// stage as a table, the drift, the hosts that need a look (with the failing probe's
/// attempts), then a table of every host.
enum StatusMarkdown {
    static func render(_ s: FleetStatus) -> String {
        let inline = RunMarkdown.inline
        var out = "### \(StatusText.mark(s)) \(inline(StatusText.headline(s)))\n\n"
        out += "Checked \(RunText.when(s.generatedAt)) in \(RunText.duration(s.durationMs)). Inventories: "
        out += s.inventories.map { inline($0) }.joined(separator: ", ")
        if let l = s.limit { out += ", limit \(inline(l))" }
        if let f = s.playbookFile { out += ". Playbook: \(inline(f))" }
        out += ". Versions from \(inline(StatusText.versionSource(s))).\n\n"
        out += versionTable(s)
        if let drift = StatusText.drift(s) { out += "\n**Drift:** \(inline(drift))\n" }
        let unreachable = s.unreachable, unhealthy = s.unhealthy, unread = StatusText.versionsNotRead(s)
        if !unreachable.isEmpty || !unhealthy.isEmpty || !unread.isEmpty {
            out += "\n#### Needs a look\n\n"
            for h in unreachable { out += "- **\(inline(h.name))** (\(inline(h.stage))): \(inline(h.error ?? "unreachable"))\n" }
            for h in unhealthy { out += unhealthyItem(h) }
            for h in unread { out += "- **\(inline(h.name))** (\(inline(h.stage))): version not read: \(inline(h.versionProblem ?? ""))\n" }
        }
        out += "\n#### Hosts\n\n" + hostTable(s)
        return out
    }

    /// A row per stage (and one for all when there are several), a column per version.
    static func versionTable(_ s: FleetStatus) -> String {
        let all = s.distribution()
        let columns = all.map(\.version)
        var t =
            "| stage | hosts | " + columns.map { RunMarkdown.inline(StatusText.version($0)) + " | " }.joined()
            + "unreachable | unhealthy |\n"
        t += "| --- | ---: | " + columns.map { _ in "---: | " }.joined() + "---: | ---: |\n"
        var rows = s.stages.map { ($0, s.hosts(stage: $0)) }
        if s.stages.count > 1 { rows.append(("**all**", s.hosts)) }
        for (name, hosts) in rows {
            let names = Set(hosts.map(\.name))
            t += "| \(name == "**all**" ? name : RunMarkdown.inline(name)) | \(hosts.count) | "
            t += all.map { v in "\(v.hosts.filter(names.contains).count) | " }.joined()
            t += "\(hosts.filter { !$0.reachable }.count) | \(hosts.filter { $0.reachable && $0.healthy == false }.count) |\n"
        }
        return t
    }

    static func unhealthyItem(_ h: StatusHost) -> String {
        var s = "- **\(RunMarkdown.inline(h.name))** (\(RunMarkdown.inline(h.stage))): \(RunMarkdown.inline(h.healthDetail))\n"
        for p in h.health?.probes ?? [] where !p.healthy {
            let attempts = p.attempts.map { "+\(RunText.duration($0.atMs)) \($0.passed ? "pass" : "FAIL") \($0.detail)" }
            if !attempts.isEmpty { s += indent(RunMarkdown.fenced(attempts.joined(separator: "\n"))) }
            if let logs = p.logs, !logs.isEmpty { s += "  logs:\n" + indent(RunMarkdown.fenced(logs)) }
        }
        return s
    }

    /// A fence inside a list item.
    static func indent(_ block: String) -> String {
        block.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "  \($0)\n" }.joined()
    }

    static func hostTable(_ s: FleetStatus) -> String {
        let drift = s.target != nil
        var t = "| host | stage | version |" + (drift ? " drift |" : "") + " health | last run |\n"
        t += "| --- | --- | --- |" + (drift ? " --- |" : "") + " --- | --- |\n"
        for h in s.hosts {
            let version = h.reachable ? StatusText.version(h.version) : "unreachable"
            t += "| \(RunMarkdown.inline(h.name)) | \(RunMarkdown.inline(h.stage)) | \(RunMarkdown.inline(version)) |"
            if drift { t += " \(StatusText.drift(s, h)) |" }
            t += " \(StatusText.health(h)) | \(RunMarkdown.inline(StatusText.lastRun(h.lastRun))) |\n"
        }
        return t
    }
}
