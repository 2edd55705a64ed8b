import FleetCore

/// The HTML report's failure details: per host that needs a look, its message, the restore
/// hint, every step with the output of the ones that failed, and the health transcript
/// (every probe attempt, and the logs read when a probe failed).
enum RunHTMLDetails {
    /// `index`: the host's place in the record, 1-based (its `failure-N` anchor).
    static func failure(_ h: HostRecord, index: Int) -> String {
        let status = HostStatus(h)
        let e = RunHTML.escape
        var s = "<article class=\"failure \(RunHTML.statusClass(status))\" id=\"failure-\(index)\" data-host=\"\(e(h.host))\">\n"
        s +=
            "<h3><span class=\"dot \(RunHTML.statusClass(status))\"></span>\(e(h.host)) · \(e(h.stage)) batch \(h.batch) · \(e(status.label))</h3>\n"
        if let m = h.result?.message { s += "<p class=\"message\">\(e(m))</p>\n" }
        if let restore = h.result?.restore { s += "<p class=\"restore\">⚠️ <strong>restore:</strong> \(e(restore))</p>\n" }
        if let step = h.inFlightStep {
            s +=
                "<p class=\"message\">in flight when the journal ends: step \(RunText.ordinal(step.index)) “\(e(step.name))” of \(e(step.from)) → \(e(step.to))"
            s += ": <code>\(e(step.command))</code></p>\n"
        }
        if !h.steps.isEmpty { s += steps(h) }
        for step in h.steps where !step.succeeded { s += output(step) }
        if !h.health.isEmpty { s += health(h) }
        return s + "</article>\n"
    }

    static func steps(_ h: HostRecord) -> String {
        let e = RunHTML.escape
        var s = "<h4>Steps</h4>\n<table class=\"steps\">\n<thead><tr><th>hop</th><th>phase</th><th class=\"num\">#</th><th>step</th>"
        s += "<th>command</th><th>result</th><th class=\"num\">took</th></tr></thead>\n<tbody>\n"
        for step in h.steps {
            let ref = step.step
            let attempt = ref.attempt > 1 ? " (attempt \(ref.attempt))" : ""
            s += "<tr class=\"\(step.succeeded ? "ok" : "bad")\"><td>\(e(ref.from)) → \(e(ref.to))</td><td>\(e(ref.phase.rawValue))</td>"
            s +=
                "<td class=\"num\">\(RunText.ordinal(ref.index))</td><td>\(e(ref.name))\(e(attempt))</td><td><code>\(e(ref.command))</code></td>"
            s += "<td>\(e(step.outcomeText))</td><td class=\"num\">\(e(RunText.duration(step.durationMs)))</td></tr>\n"
        }
        return s + "</tbody>\n</table>\n"
    }

    static func output(_ step: StepRecord) -> String {
        let e = RunHTML.escape
        var s = "<div class=\"output\">\n<h4>\(e(RunText.step(step)))</h4>\n"
        if step.stdout.isEmpty && step.stderr.isEmpty { s += "<p class=\"note\">no output</p>\n" }
        if !step.stdout.isEmpty { s += "<p class=\"stream\">stdout (tail)</p>\n<pre class=\"stdout\">\(e(step.stdout))</pre>\n" }
        if !step.stderr.isEmpty { s += "<p class=\"stream\">stderr (tail)</p>\n<pre class=\"stderr\">\(e(step.stderr))</pre>\n" }
        return s + "</div>\n"
    }

    static func health(_ h: HostRecord) -> String { health(h.health) }

    /// Health checks with every probe, attempt and log (the status page shows its own too).
    static func health(_ checks: [HealthRecord]) -> String {
        let e = RunHTML.escape
        var s = "<h4>Health</h4>\n"
        for check in checks {
            s += "<div class=\"health \(check.healthy ? "ok" : "bad")\">\n"
            s +=
                "<p><strong>\(e(check.context))</strong>: \(check.healthy ? "healthy" : "unhealthy") in \(e(RunText.duration(check.durationMs)))</p>\n"
            for probe in check.probes {
                s += "<p class=\"probe\"><code>\(e(probe.target))</code> expects \(e(probe.expectation)): "
                s += "<span class=\"\(probe.healthy ? "ok" : "bad")\">\(e(probe.verdict))</span></p>\n"
                if !probe.attempts.isEmpty {
                    s +=
                        "<table class=\"attempts\">\n<thead><tr><th class=\"num\">at</th><th class=\"num\">took</th><th>result</th><th>detail</th></tr></thead>\n<tbody>\n"
                    for a in probe.attempts {
                        s += "<tr class=\"\(a.passed ? "ok" : "bad")\"><td class=\"num\">+\(e(RunText.duration(a.atMs)))</td>"
                        s +=
                            "<td class=\"num\">\(e(RunText.duration(a.durationMs)))</td><td>\(a.passed ? "pass" : "fail")</td><td>\(e(a.detail))</td></tr>\n"
                    }
                    s += "</tbody>\n</table>\n"
                }
                if let logs = probe.logs, !logs.isEmpty { s += "<p class=\"stream\">logs</p>\n<pre class=\"logs\">\(e(logs))</pre>\n" }
            }
            s += "</div>\n"
        }
        return s
    }
}
