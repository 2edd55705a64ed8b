import FleetCore

/// The status as ONE self-contained HTML page, made as the run report is (`RunHTML`): inline
/// CSS, an inline SVG chart of the versions per stage, no script, and a Content-Security-Policy
/// that lets the page load nothing. Every text from the status goes through `RunHTML.escape`.
enum StatusHTML {
    static func render(_ s: FleetStatus) -> String {
        let e = RunHTML.escape
        let verdict = s.passes ? "passed" : "failed"
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>fleetup status: \(e(StatusText.title(s))) \(verdict) at \(e(RunText.when(s.generatedAt)))</title>
            <style>\(RunHTMLStyle.css)\(css)</style>
            </head>
            <body>
            <header>
            <h1 class="outcome outcome-\(s.passes ? "succeeded" : "failed")">\(e(StatusText.htmlMark(s) + " " + StatusText.headline(s)))</h1>

            """
        out += about(s) + "</header>\n"
        out += RunHTML.section("summary", "Hosts", "<p class=\"chips\">" + chips(s) + "</p>\n")
        var chart = "<p class=\"note\">Hosts per version in each stage"
        chart += s.target.map { "; green is the target \(e($0)), orange behind it, blue ahead of it, grey unknown." } ?? "."
        chart += "</p>\n" + StatusChart.svg(s) + "\n" + versionTable(s)
        out += RunHTML.section("versions", "Versions", chart)
        if let drift = StatusText.drift(s) { out += RunHTML.section("drift", "Drift", "<p>\(e(drift))</p>\n") }
        out += RunHTML.section("hosts", "Hosts", hostTable(s))
        let attention = s.hosts.filter { !s.problems($0).isEmpty || StatusText.versionsNotRead(s).contains($0) }
        if !attention.isEmpty {
            out += RunHTML.section("attention", "Needs a look", attention.map { details(s, $0) }.joined())
        }
        out += "<footer>fleetup status · checked \(e(RunText.when(s.generatedAt))) in \(e(RunText.duration(s.durationMs)))</footer>\n"
        return out + "</body>\n</html>\n"
    }

    static let css = """
        svg.versions { max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
        svg .stage-label { font-weight: 600; fill: #1f2328; } svg .version-label, svg .count { fill: #1f2328; }
        rect.drift-on-target, .chip.drift-on-target { fill: #2e7d32; background: #2e7d32; }
        rect.drift-behind, .chip.drift-behind { fill: #ef6c00; background: #ef6c00; }
        rect.drift-ahead, .chip.drift-ahead { fill: #1565c0; background: #1565c0; }
        rect.drift-unknown, .chip.drift-unknown { fill: #9e9e9e; background: #9e9e9e; }
        rect.drift-none { fill: #1565c0; }
        .chip.passed { background: #2e7d32; } .chip.unhealthy { background: #c62828; } .chip.unreachable { background: #6a1b9a; }
        tr.host.bad td { background: #fff1f0; }

        """

    static func about(_ s: FleetStatus) -> String {
        var rows: [(String, String)] = [
            ("checked", RunText.when(s.generatedAt)), ("took", RunText.duration(s.durationMs)),
            ("inventories", s.inventories.joined(separator: ", ")),
        ]
        if let l = s.limit { rows.append(("limit", l)) }
        if let book = s.playbook { rows.append(("playbook", "\(book) (\(s.playbookFile ?? ""))")) }
        if let t = s.target { rows.append(("target", t + (s.requireTarget ? " (required: hosts off it fail)" : ""))) }
        rows.append(("versions from", StatusText.versionSource(s)))
        return "<dl class=\"about\">\n" + rows.map { "<dt>\(RunHTML.escape($0.0))</dt><dd>\(RunHTML.escape($0.1))</dd>\n" }.joined()
            + "</dl>\n"
    }

    static func chips(_ s: FleetStatus) -> String {
        var chips: [(String, String)] = [("passed", "\(s.hosts.filter { s.problems($0).isEmpty }.count) passed")]
        if !s.unreachable.isEmpty { chips.append(("unreachable", "\(s.unreachable.count) unreachable")) }
        if !s.unhealthy.isEmpty { chips.append(("unhealthy", "\(s.unhealthy.count) unhealthy")) }
        if s.target != nil {
            for d in Drift.allCases {
                let n = s.hosts.filter { s.drift($0) == d }.count
                if n > 0 { chips.append(("drift-\(d.rawValue)", "\(n) \(d.rawValue)")) }
            }
        }
        return chips.map { "<span class=\"chip \($0.0)\">\(RunHTML.escape($0.1))</span> " }.joined()
    }

    static func versionTable(_ s: FleetStatus) -> String {
        let e = RunHTML.escape
        let all = s.distribution()
        var t = "<table class=\"versions\">\n<thead><tr><th>stage</th><th class=\"num\">hosts</th>"
        t += all.map { "<th class=\"num\">\(e(StatusText.version($0.version)))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        var rows = s.stages.map { ($0, s.hosts(stage: $0)) }
        if s.stages.count > 1 { rows.append(("all stages", s.hosts)) }
        for (name, hosts) in rows {
            let names = Set(hosts.map(\.name))
            t += "<tr><td>\(e(name))</td><td class=\"num\">\(hosts.count)</td>"
            t +=
                all.map { v in
                    let n = v.hosts.filter(names.contains).count
                    return "<td class=\"num\">\(n == 0 ? "·" : "\(n)")</td>"
                }.joined() + "</tr>\n"
        }
        return t + "</tbody>\n</table>\n"
    }

    static func hostTable(_ s: FleetStatus) -> String {
        let e = RunHTML.escape
        let drift = s.target != nil
        var t = "<table class=\"hosts\">\n<thead><tr><th>host</th><th>stage</th><th>reachable</th><th>version</th>"
        t += (drift ? "<th>drift</th>" : "") + "<th>health</th><th>last run</th></tr></thead>\n<tbody>\n"
        for (i, h) in s.hosts.enumerated() {
            let bad = !s.problems(h).isEmpty
            let name = bad || StatusText.versionsNotRead(s).contains(h) ? "<a href=\"#host-detail-\(i + 1)\">\(e(h.name))</a>" : e(h.name)
            t +=
                "<tr class=\"host \(bad ? "bad" : "ok")\" id=\"host-\(i + 1)\" data-host=\"\(e(h.name))\"><td>\(name)</td><td>\(e(h.stage))</td>"
            t += "<td>\(h.reachable ? "yes" : "<span class=\"bad\">no</span>")</td>"
            t += "<td>\(e(h.reachable ? StatusText.version(h.version) : "–"))</td>"
            if drift { t += "<td>\(e(StatusText.drift(s, h)))</td>" }
            t += "<td>\(h.healthy == false ? "<span class=\"bad\">unhealthy</span>" : e(StatusText.health(h)))</td>"
            t += "<td>\(e(StatusText.lastRun(h.lastRun)))</td></tr>\n"
        }
        return t + "</tbody>\n</table>\n"
    }

    static func details(_ s: FleetStatus, _ h: StatusHost) -> String {
        let e = RunHTML.escape
        let index = (s.hosts.firstIndex(of: h) ?? 0) + 1
        let problems = s.problems(h)
        var out = "<article class=\"failure\" id=\"host-detail-\(index)\" data-host=\"\(e(h.name))\">\n"
        out += "<h3>\(e(h.name)) · \(e(h.stage))\(problems.isEmpty ? "" : " · " + e(problems.joined(separator: ", ")))</h3>\n"
        if let error = h.error { out += "<p class=\"message\">\(e(error))</p>\n" }
        if h.reachable, let why = h.versionProblem, s.versionSource != nil {
            out += "<p class=\"message\">version not read: \(e(why))</p>\n"
        }
        if let health = h.health, !health.healthy { out += RunHTMLDetails.health([health]) }
        if let l = h.lastRun {
            out +=
                "<p class=\"note\">last run \(e(l.runID)) (\(e(l.playbook)) → \(e(l.target))): \(e(l.outcome)) at \(e(RunText.when(l.at)))"
            out += (l.message.map { ": " + e($0) } ?? "") + "</p>\n"
        }
        return out + "</article>\n"
    }
}
