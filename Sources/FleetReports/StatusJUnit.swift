import FleetCore

/// The status as JUnit XML, so CI shows each host as a test: a test suite per stage, a test
/// case per host (class name `status.PLAYBOOK.STAGE`). An unreachable host is an `<error>`,
/// an unhealthy one a `<failure>`, and with `--require-target` a host off the target (or on
/// an unknown version) a `<failure>` too; every other host passes. The exit status of
/// `fleetup status` follows the same rule, so CI's view and the exit status agree.
enum StatusJUnit {
    static func render(_ s: FleetStatus) -> String {
        let attr = RunJUnit.attr
        let all = Tally(s, s.hosts)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(attr("fleetup status: \(StatusText.title(s))"))\"" + all.attributes
        out += " time=\"\(RunJUnit.seconds(s.durationMs))\">\n"
        for stage in s.stages {
            let hosts = s.hosts(stage: stage)
            out += "  <testsuite name=\"\(attr(stage))\"" + Tally(s, hosts).attributes + " time=\"\(RunJUnit.seconds(0))\""
            out += " timestamp=\"\(attr(timestamp(s.generatedAt)))\">\n"
            out += "    <properties>\n"
            var props: [(String, String)] = [
                ("playbook", s.playbook ?? ""), ("target", s.target ?? ""),
                ("require_target", s.requireTarget ? "true" : "false"),
                ("versions", StatusText.counts(s.distribution(stage: stage))),
            ]
            if s.playbook == nil { props.removeFirst(2) }
            for (name, value) in props { out += "      <property name=\"\(name)\" value=\"\(attr(value))\"/>\n" }
            out += "    </properties>\n"
            for h in hosts { out += testcase(s, h) }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    /// `2026-12-03T09:30:00.125Z` without its zone and fraction, as xs:dateTime and JUnit readers like it.
    static func timestamp(_ t: WallTime) -> String { String(t.description.prefix(19)) }

    static func testcase(_ s: FleetStatus, _ h: StatusHost) -> String {
        let attr = RunJUnit.attr, text = RunJUnit.text
        let classname = "status.\(s.playbook.map { "\($0)." } ?? "")\(h.stage)"
        var out =
            "    <testcase name=\"\(attr(h.name))\" classname=\"\(attr(classname))\" time=\"\(RunJUnit.seconds(h.health?.durationMs ?? 0))\">\n"
        let problems = s.problems(h)
        if !h.reachable {
            out += "      <error message=\"\(attr(h.error ?? "unreachable"))\" type=\"unreachable\">\(text(h.error ?? ""))</error>\n"
        } else if h.healthy == false {
            out += "      <failure message=\"\(attr(h.healthDetail))\" type=\"unhealthy\">\(text(healthText(h)))</failure>\n"
        } else if problems.contains("off-target"), let t = s.target {
            let where_ =
                h.version.map { "\($0) is \(StatusText.driftPhrase(s, h) ?? "")" } ?? "version unknown: \(h.versionProblem ?? "not read")"
            out += "      <failure message=\"\(attr("not on the target \(t): \(where_)"))\" type=\"off-target\"/>\n"
        }
        out += "      <system-out>\(text(summary(s, h)))</system-out>\n"
        return out + "    </testcase>\n"
    }

    /// What the host is: version (and drift), health, last run; one line each.
    static func summary(_ s: FleetStatus, _ h: StatusHost) -> String {
        var lines: [String] = []
        lines.append(h.reachable ? "reachable" : h.error ?? "unreachable")
        if let v = h.version {
            lines.append("version \(v)" + (StatusText.driftPhrase(s, h).map { " (\($0))" } ?? ""))
        } else {
            lines.append("version: \(h.versionProblem ?? "not read")")
        }
        lines.append("health: \(h.healthDetail)")
        if let l = h.lastRun { lines.append("last run: \(StatusText.lastRun(l))" + (l.message.map { ": \($0)" } ?? "")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The failing probes with every attempt and their logs.
    static func healthText(_ h: StatusHost) -> String {
        var out = h.healthDetail + "\n"
        for p in h.health?.probes ?? [] where !p.healthy {
            out += "\n\(p.target) (\(p.expectation)): \(p.verdict)\n"
            for a in p.attempts { out += "  +\(RunText.duration(a.atMs)) \(a.passed ? "pass" : "FAIL") \(a.detail)\n" }
            if let logs = p.logs, !logs.isEmpty { out += "  logs:\n" + RunJUnit.indented(logs) }
        }
        return out
    }

    struct Tally {
        var tests = 0, failures = 0, errors = 0

        init(_ s: FleetStatus, _ hosts: [StatusHost]) {
            for h in hosts {
                tests += 1
                let p = s.problems(h)
                if p.contains("unreachable") { errors += 1 } else if !p.isEmpty { failures += 1 }
            }
        }

        var attributes: String { " tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\"" }
    }
}
