import FleetCore

/// The status for the terminal: the headline, a row per host, the versions per stage, the
/// drift, then each host that needs a look with the reason.
enum StatusTextReport {
    static func render(_ s: FleetStatus, style: TextStyle = .plain) -> String {
        var out = "\(StatusText.mark(s)) \(style.paint(StatusText.headline(s), s.passes ? .good : .bad))\n"
        out +=
            "checked \(RunText.when(s.generatedAt)) in \(RunText.duration(s.durationMs)); versions from \(StatusText.versionSource(s))\n\n"
        var rows = [["HOST", "STAGE", "VERSION"] + (s.target == nil ? [] : ["DRIFT"]) + ["HEALTH", "LAST RUN"]]
        for h in s.hosts {
            let version = h.reachable ? StatusText.version(h.version) : "unreachable"
            rows.append(
                [h.name, h.stage, version] + (s.target == nil ? [] : [StatusText.drift(s, h)])
                    + [StatusText.health(h), StatusText.lastRun(h.lastRun)])
        }
        let healthColumn = rows[0].firstIndex(of: "HEALTH")!
        out += table(rows) { row, column, cell in
            guard row > 0, column == healthColumn || (column == 2 && cell.hasPrefix("unreachable")) else { return cell }
            let tone: TextStyle.Tone = cell.hasPrefix("healthy") ? .good : cell.hasPrefix("–") ? .quiet : .bad
            return style.paint(cell, tone)
        }
        out += "\nversions:\n"
        let label = (s.stages + ["all"]).map(\.count).max() ?? 3
        for stage in s.stages {
            out += "  " + pad(stage, label) + "  " + StatusText.counts(s.distribution(stage: stage)) + "\n"
        }
        if s.stages.count > 1 { out += "  " + pad("all", label) + "  " + StatusText.counts(s.distribution()) + "\n" }
        if let drift = StatusText.drift(s) { out += "\ndrift: \(drift)\n" }
        for (title, hosts, why) in attention(s) where !hosts.isEmpty {
            out += "\n\(title) (\(hosts.count)):\n" + hosts.map { "  \($0.name): \(RunText.printable(why($0)))\n" }.joined()
        }
        return out
    }

    /// The lists of hosts that need a look, with the line each gets.
    static func attention(_ s: FleetStatus) -> [(String, [StatusHost], (StatusHost) -> String)] {
        [
            ("unreachable", s.unreachable, { $0.error ?? "unreachable" }),
            (
                "unhealthy", s.unhealthy,
                { h in h.healthDetail.hasPrefix("unhealthy: ") ? String(h.healthDetail.dropFirst(11)) : h.healthDetail }
            ),
            ("version not read", StatusText.versionsNotRead(s), { $0.versionProblem ?? "not read" }),
        ]
    }

    /// Columns padded to their widest cell (by characters), two spaces apart.
    /// `paint` sees each cell after its padding (row, column, text), so colours never
    /// shift the columns.
    static func table(_ rows: [[String]], paint: (Int, Int, String) -> String = { $2 }) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.enumerated().map { r, row in
            row.enumerated().map { c, cell in paint(r, c, c == row.count - 1 ? cell : pad(cell, widths[c])) }.joined(separator: "  ")
                + "\n"
        }.joined()
    }

    static func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
}
