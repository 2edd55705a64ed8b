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
    public static func text(_ run: AdHocRun, layout: Layout = .collapsed) -> String {
        var out = ""
        switch layout {
        case .collapsed: out += collapsed(run)
        case .prefixed: out += prefixed(run)
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

    private static func collapsed(_ run: AdHocRun) -> String {
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
            out += "== \(HostList.compress(b.hosts))\(count): \(headline(b.result.outcome))\n"
            if case .ran(let r) = b.result.outcome {
                out += body(r.stdout, prefix: "")
                out += body(r.stderr, prefix: "stderr: ")
            }
        }
        return out
    }

    private static func prefixed(_ run: AdHocRun) -> String {
        let width = run.results.map(\.host.count).max() ?? 0
        var out = ""
        for r in run.results {
            let name = r.host.padding(toLength: width, withPad: " ", startingAt: 0)
            if case .ran(let result) = r.outcome {
                out += body(result.stdout, prefix: "\(name) | ")
                out += body(result.stderr, prefix: "\(name) ! ")
            }
            if r.outcome.category != .ok { out += "\(name) = \(headline(r.outcome))\n" }
        }
        return out
    }

    /// Hosts collapse when the outcome and both output tails are the same.
    private static func blockKey(_ outcome: AdHocOutcome) -> String {
        switch outcome {
        case .ran(let r): return "\(r.outcomeText)\u{0}\(r.stdout.text)\u{0}\(r.stderr.text)\u{0}\(r.stdout.isTruncated)\(r.stderr.isTruncated)"
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

    /// The JSON report (`--json`): one object, sorted keys, documented in docs/reports.md.
    /// Every host object has the same keys; what does not apply is null.
    public static func json(_ run: AdHocRun) -> String {
        let hosts: [[String: Any]] = run.results.map { r in
            var h: [String: Any] = [
                "host": r.host, "outcome": r.outcome.category.rawValue.replacingOccurrences(of: " ", with: "_"),
                "timed_out": false, "error": JSONText.null,
            ]
            for key in ["exit_status", "exit_signal", "duration_ms", "stdout", "stderr", "stdout_bytes", "stderr_bytes",
                        "stdout_truncated", "stderr_truncated"] { h[key] = JSONText.null }
            switch r.outcome {
            case .ran(let c):
                h["exit_status"] = c.exitStatus.map { Int($0) } ?? JSONText.null
                h["exit_signal"] = c.exitSignal ?? JSONText.null
                h["timed_out"] = c.timedOut
                h["duration_ms"] = milliseconds(c.duration)
                h["stdout"] = c.stdout.text
                h["stderr"] = c.stderr.text
                h["stdout_bytes"] = c.stdout.totalBytes
                h["stderr_bytes"] = c.stderr.totalBytes
                h["stdout_truncated"] = c.stdout.isTruncated
                h["stderr_truncated"] = c.stderr.isTruncated
            case .failed(let e):
                h["error"] = ["kind": e.kind.rawValue, "message": e.message]
            }
            return h
        }
        let summary = Dictionary(uniqueKeysWithValues: run.counts.map { ($0.key.rawValue.replacingOccurrences(of: " ", with: "_"), $0.value) })
        return JSONText.render(["schema": "fleetup.exec/1", "command": run.command, "duration_ms": milliseconds(run.duration),
                                "interrupted": run.interrupted, "summary": summary, "hosts": hosts])
    }
}

/// Pretty JSON with sorted keys, for the reports built as dictionaries (exec, ping).
enum JSONText {
    static let null = NSNull()

    static func render(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

func milliseconds(_ d: Duration) -> Int {
    Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
}
