import FleetCore

/// The run as JUnit XML, so CI systems show it as tests: a test suite per stage, a test case
/// per host (class name `playbook.stage.batchN`). Failed and rolled-back hosts are
/// failures, unreachable and interrupted ones errors, hosts skipped after a halt (or not
/// finished when the journal ends) skipped. Every host's steps go to its `system-out`.
enum RunJUnit {
    /// Output lines kept per block in a failure's text.
    static let tailLines = 50

    static func render(_ r: RunRecord) -> String {
        let all = Tally(r.hosts)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(attr("fleetup run \(r.header.id): \(r.header.playbook) → \(r.header.target)"))\"" + all.attributes
        out += " time=\"\(seconds(r.durationMs ?? span(r.hosts, in: r)))\">\n"
        for stage in r.header.stages {
            let hosts = r.hosts(stage: stage.name)
            let t = Tally(hosts)
            out += "  <testsuite name=\"\(attr(stage.name))\"" + t.attributes + " time=\"\(seconds(span(hosts, in: r)))\""
            if let first = hosts.compactMap(\.startedAt).min() { out += " timestamp=\"\(attr(first.description))\"" }
            out += ">\n"
            out += "    <properties>\n"
            for (name, value) in [
                ("run", r.header.id), ("playbook", r.header.playbook), ("target", r.header.target),
                ("outcome", RunText.outcome(r)), ("gate_after", r.gates[stage.name]?.rawValue ?? "none"),
            ] {
                out += "      <property name=\"\(name)\" value=\"\(attr(value))\"/>\n"
            }
            // Who did what, in the first stage's suite (CI shows a suite's properties).
            if stage.name == r.header.stages.first?.name {
                for a in RunText.actions(r) {
                    out += "      <property name=\"action\" value=\"\(attr("\(a.at.description) \(a.text)"))\"/>\n"
                }
            }
            out += "    </properties>\n"
            for h in hosts { out += testcase(h, r) }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func testcase(_ h: HostRecord, _ r: RunRecord) -> String {
        let classname = "\(r.header.playbook).\(h.stage).batch\(h.batch)"
        var s = "    <testcase name=\"\(attr(h.host))\" classname=\"\(attr(classname))\" time=\"\(seconds(h.durationMs ?? 0))\">\n"
        let message = h.result?.message ?? HostStatus(h).label
        switch HostStatus(h) {
        case .outcome(.failed), .outcome(.rolledBack):
            s += "      <failure message=\"\(attr(message))\" type=\"\(HostStatus(h).label)\">\(text(details(h)))</failure>\n"
        case .outcome(.unreachable), .outcome(.interrupted):
            s += "      <error message=\"\(attr(message))\" type=\"\(HostStatus(h).label)\">\(text(details(h)))</error>\n"
        case .outcome(.skippedAfterHalt):
            s += "      <skipped message=\"\(attr(message))\"/>\n"
        case .running:
            let step = h.inFlightStep.map { ", during step \(RunText.ordinal($0.index)) \"\($0.name)\"" } ?? ""
            s += "      <skipped message=\"\(attr("not finished when the journal ends\(step)"))\"/>\n"
        case .pending:
            s += "      <skipped message=\"not started\"/>\n"
        case .outcome(.upgraded), .outcome(.alreadyCurrent):
            break
        }
        let log = stepLog(h)
        if !log.isEmpty { s += "      <system-out>\(text(log))</system-out>\n" }
        return s + "    </testcase>\n"
    }

    /// What a failure says beyond its message: the failed step and its output, the health
    /// probes that failed with their attempts and logs, the rollback, the restore hint.
    static func details(_ h: HostRecord) -> String {
        var s = ""
        if let m = h.result?.message { s += m + "\n" }
        if let step = h.failedStep {
            s += "\n" + RunText.step(step) + "\n  command: " + step.step.command + "\n" + outputs(step)
        }
        for (check, probe) in RunText.failedProbes(h) {
            s += "\nhealth \(check.context): \(probe.target) (\(probe.expectation)): \(probe.verdict)\n"
            for a in probe.attempts { s += "  +\(RunText.duration(a.atMs)) \(a.passed ? "pass" : "FAIL") \(a.detail)\n" }
            if let logs = probe.logs, !logs.isEmpty { s += "  logs:\n" + indented(logs) }
        }
        let rollback = h.rollbackSteps
        if !rollback.isEmpty {
            s += "\nrollback:\n"
            for step in rollback { s += "  " + RunText.step(step) + "\n" + (step.succeeded ? "" : outputs(step)) }
        }
        if let restore = h.result?.restore { s += "\nrestore: \(restore)\n" }
        return s
    }

    /// The host's status and path, then every step it ran, one line each, each hop's
    /// health check after its steps.
    static func stepLog(_ h: HostRecord) -> String {
        var s = HostStatus(h).label
        if let r = h.result, !r.path.isEmpty { s += ": " + r.path.joined(separator: " -> ") }
        s += "\n"
        var health = h.health
        func checks(after from: String, _ to: String) {
            let context = "after \(from) -> \(to)"
            for c in health where c.context == context { s += healthLine(c) }
            health.removeAll { $0.context == context }
        }
        for (i, step) in h.steps.enumerated() {
            s += RunText.step(step) + "\n"
            let next = i + 1 < h.steps.count ? h.steps[i + 1].step : nil
            if next.map({ $0.from != step.step.from || $0.to != step.step.to }) ?? true { checks(after: step.step.from, step.step.to) }
        }
        for c in health { s += healthLine(c) }
        return s
    }

    static func healthLine(_ c: HealthRecord) -> String {
        "health \(c.context): \(c.healthy ? "healthy" : "unhealthy") (\(RunText.duration(c.durationMs)))\n"
    }

    static func outputs(_ step: StepRecord) -> String {
        var s = ""
        for (name, output) in [("stdout", step.stdout), ("stderr", step.stderr)] where !output.isEmpty {
            let (kept, omitted) = RunText.tail(output, lines: tailLines)
            s += "  \(name)\(omitted > 0 ? " (last \(tailLines) lines)" : ""):\n" + indented(kept)
        }
        return s
    }

    static func indented(_ text: String) -> String {
        RunText.tail(text, lines: Int.max).text.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)\n" }.joined()
    }

    /// From the first start to the last finish of `hosts`, in milliseconds.
    static func span(_ hosts: [HostRecord], in r: RunRecord) -> Int {
        let starts = hosts.compactMap { r.offsetMs($0.startedAt) }
        let ends = hosts.compactMap { r.offsetMs($0.finishedAt) }
        guard let a = starts.min(), let b = ends.max(), b >= a else { return 0 }
        return b - a
    }

    /// `12.345`; `-0.500` for a negative duration (a journal is input too: one holding
    /// `"duration_ms":-1500` made the padding's count negative, a trap).
    static func seconds(_ ms: Int) -> String {
        let whole = ms.magnitude / 1000, frac = String(ms.magnitude % 1000)
        return (ms < 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: 3 - frac.count) + frac
    }

    /// Counts as the JUnit attributes want them.
    struct Tally {
        var tests = 0, failures = 0, errors = 0, skipped = 0

        init(_ hosts: [HostRecord]) {
            for h in hosts {
                tests += 1
                switch HostStatus(h) {
                case .outcome(.failed), .outcome(.rolledBack): failures += 1
                case .outcome(.unreachable), .outcome(.interrupted): errors += 1
                case .outcome(.skippedAfterHalt), .running, .pending: skipped += 1
                case .outcome(.upgraded), .outcome(.alreadyCurrent): break
                }
            }
        }

        var attributes: String { " tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\"" }
    }

    /// Text content: markup characters escaped, and characters XML 1.0 cannot hold at all
    /// (control characters other than tab and newline, as a terminal's colour codes are)
    /// shown as U+FFFD.
    static func text(_ s: String) -> String { escape(s, quotes: false) }

    /// An attribute value: as `text`, quotes escaped too, and line breaks kept as
    /// references (a parser turns a raw one into a space).
    static func attr(_ s: String) -> String { escape(s, quotes: true) }

    /// `&` `<` `>` as entities (and with `quotes`, `"` `'` and line breaks and tabs as
    /// references); `\r` as `&#13;`; characters XML 1.0 cannot hold (other controls, DEL, the
    /// C1 controls, U+FFFE, U+FFFF) as U+FFFD. Byte by byte, runs that need nothing copied
    /// whole, and text that needs nothing returned as it is (building a copy scalar by
    /// scalar was 5 % of a 5,000-host run's CPU).
    static func escape(_ s: String, quotes: Bool) -> String {
        var s = s
        return s.withUTF8 { u -> String? in
            var out: [UInt8] = []
            var run = 0
            var i = 0
            while i < u.count {
                let c = u[i]
                var length = 1
                let replacement: StaticString?
                switch c {
                case UInt8(ascii: "&"): replacement = "&amp;"
                case UInt8(ascii: "<"): replacement = "&lt;"
                case UInt8(ascii: ">"): replacement = "&gt;"
                case UInt8(ascii: "\""): replacement = quotes ? "&quot;" : nil
                case UInt8(ascii: "'"): replacement = quotes ? "&apos;" : nil
                case UInt8(ascii: "\n"): replacement = quotes ? "&#10;" : nil
                case UInt8(ascii: "\t"): replacement = quotes ? "&#9;" : nil
                case UInt8(ascii: "\r"): replacement = "&#13;"
                case 0..<0x20, 0x7F: replacement = "\u{FFFD}"
                case 0xC2 where i + 1 < u.count && (0x80...0x9F).contains(u[i + 1]):
                    (replacement, length) = ("\u{FFFD}", 2)
                case 0xEF where i + 2 < u.count && u[i + 1] == 0xBF && u[i + 2] >= 0xBE:
                    (replacement, length) = ("\u{FFFD}", 3)
                default: replacement = nil
                }
                if let replacement {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i]))
                    replacement.withUTF8Buffer { out.append(contentsOf: $0) }
                    run = i + length
                }
                i += length
            }
            if run == 0 { return nil }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run...]))
            return String(decoding: out, as: UTF8.self)
        } ?? s
    }
}
