import FleetCore
import Foundation

/// Renders an `AdHocRun` (`fleetup exec`) as text for people or JSON for programs.
public enum AdHocReport {
    /// How text output shows the hosts' output.
    public enum Layout: String, Sendable, CaseIterable {
        /// Hosts with identical output and outcome share one block (like `dshbak -c`).
        case collapsed
        /// Every output line prefixed with its host name (like `pdsh`).
        case prefixed
    }

    /// The text report: the output blocks, then one summary line.
    public static func text(_ run: AdHocRun, layout: Layout = .collapsed, style: TextStyle = .plain) -> String {
        var out = ""
        switch layout {
        case .collapsed: out += collapsed(run, style)
        case .prefixed: out += prefixed(run, style)
        }
        return out + summary(run) + "\n"
    }

    /// `20 hosts: 18 ok, 1 failed, 1 unreachable, 0 timed out (1.23 s)`.
    public static func summary(_ run: AdHocRun) -> String {
        let c = run.counts
        let parts = AdHocCategory.allCases.map { "\(c[$0] ?? 0) \($0.rawValue)" }
        let noun = run.results.count == 1 ? "host" : "hosts"
        var line = "\(run.results.count) \(noun): \(parts.joined(separator: ", ")) (\(seconds(run.duration)))"
        if run.interrupted { line += "; interrupted" }
        return line
    }

    private struct Block {
        var key: String
        var hosts: [String]
        var result: AdHocHostResult
    }

    private static func collapsed(_ run: AdHocRun, _ style: TextStyle) -> String {
        var blocks: [Block] = []
        var index: [String: Int] = [:]
        for r in run.results {
            let key = blockKey(r.outcome)
            if let i = index[key] {
                blocks[i].hosts.append(r.host)
            } else {
                index[key] = blocks.count
                blocks.append(Block(key: key, hosts: [r.host], result: r))
            }
        }
        var out = ""
        for b in blocks {
            let count = b.hosts.count > 1 ? " (\(b.hosts.count))" : ""
            let outcome = style.paint(headline(b.result.outcome), TextStyle.tone(b.result.outcome.category))
            out += "== \(HostList.compress(b.hosts))\(count): \(outcome)\n"
            if case .ran(let r) = b.result.outcome {
                out += body(r.stdout, prefix: "")
                out += body(r.stderr, prefix: "stderr: ")
            }
        }
        return out
    }

    private static func prefixed(_ run: AdHocRun, _ style: TextStyle) -> String {
        let width = run.results.map(\.host.count).max() ?? 0
        var out = ""
        for r in run.results {
            let name = r.host.padding(toLength: width, withPad: " ", startingAt: 0)
            if case .ran(let result) = r.outcome {
                out += body(result.stdout, prefix: "\(name) | ")
                out += body(result.stderr, prefix: "\(name) ! ")
            }
            if r.outcome.category != .ok {
                out += "\(name) = \(style.paint(headline(r.outcome), TextStyle.tone(r.outcome.category)))\n"
            }
        }
        return out
    }

    /// Hosts collapse when the outcome and both output tails are the same.
    private static func blockKey(_ outcome: AdHocOutcome) -> String {
        switch outcome {
        case .ran(let r):
            return "\(r.outcomeText)\u{0}\(r.stdout.text)\u{0}\(r.stderr.text)\u{0}\(r.stdout.isTruncated)\(r.stderr.isTruncated)"
        // Errors name their host; collapse on the kind and the message without it.
        case .failed(let e): return "\(e.kind.rawValue)\u{0}\(e.message)"
        }
    }

    private static func headline(_ outcome: AdHocOutcome) -> String {
        switch outcome {
        case .ran(let r): return r.outcomeText
        case .failed(let e): return "\(e.kind.rawValue): \(e.message.replacingOccurrences(of: "\n", with: "\n   "))"
        }
    }

    /// The captured tail, each line prefixed; says how much was dropped from the front.
    private static func body(_ output: CapturedOutput, prefix: String) -> String {
        guard output.totalBytes > 0 else { return "" }
        var out = ""
        if output.isTruncated {
            out += "\(prefix)[… \(output.totalBytes - output.tail.count) earlier bytes not kept; \(output.totalBytes) in all]\n"
        }
        var text = output.text
        if text.hasSuffix("\n") { text.removeLast() }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            out += prefix + line + "\n"
        }
        return out
    }

    static func seconds(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        return ms < 1000 ? "\(Int(ms.rounded())) ms" : String(format: "%.2f s", ms / 1000)
    }

    // MARK: JSON

    /// The JSON report (`--json`): one object, keys in the order docs/reports.md shows them.
    /// Every host object has the same keys; what does not apply is null.
    public static func json(_ run: AdHocRun) -> String {
        let hosts: [JSON] = run.results.map { r in
            let outcome = JSON.string(r.outcome.category.rawValue.replacingOccurrences(of: " ", with: "_"))
            switch r.outcome {
            case .ran(let c):
                return .object([
                    ("host", .string(r.host)), ("outcome", outcome), ("exit_status", .int(c.exitStatus.map { Int($0) })),
                    ("exit_signal", .text(c.exitSignal)), ("timed_out", .bool(c.timedOut)), ("duration_ms", .int(milliseconds(c.duration))),
                    ("stdout", .string(c.stdout.text)), ("stderr", .string(c.stderr.text)),
                    ("stdout_bytes", .int(c.stdout.totalBytes)), ("stderr_bytes", .int(c.stderr.totalBytes)),
                    ("stdout_truncated", .bool(c.stdout.isTruncated)), ("stderr_truncated", .bool(c.stderr.isTruncated)),
                    ("error", .null),
                ])
            case .failed(let e):
                let none: [(String, JSON)] = [
                    "exit_status", "exit_signal", "timed_out", "duration_ms", "stdout", "stderr", "stdout_bytes",
                    "stderr_bytes", "stdout_truncated", "stderr_truncated",
                ].map { ($0, $0 == "timed_out" ? .bool(false) : .null) }
                return .object(
                    [("host", .string(r.host)), ("outcome", outcome)] + none
                        + [("error", .object([("kind", .string(e.kind.rawValue)), ("message", .string(e.message))]))])
            }
        }
        let summary = run.counts.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { ($0.key.rawValue.replacingOccurrences(of: " ", with: "_"), JSON.int($0.value)) }
        return JSON.object([
            ("schema", .string("fleetup.exec/1")), ("command", .string(run.command)), ("duration_ms", .int(milliseconds(run.duration))),
            ("interrupted", .bool(run.interrupted)), ("summary", .object(summary)), ("hosts", .array(hosts)),
        ]).render() + "\n"
    }
}

func milliseconds(_ d: Duration) -> Int {
    Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
}
