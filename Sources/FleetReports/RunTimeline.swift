import FleetCore

/// The HTML report's timeline: an inline SVG with a row per host, grouped by batch, and a
/// bar from the host's start to its finish (journal times, relative to the run's start),
/// coloured by outcome. Hosts that never started (skipped after a halt, pending) get a row
/// with no bar; a host still running when the journal ends gets a bar to the last time
/// the journal knows.
enum RunTimeline {
    static let width = 960.0
    static let labelWidth = 230.0
    static let rowHeight = 18.0
    static let top = 28.0

    static func svg(_ r: RunRecord) -> String {
        var rows: [Row] = []
        for stage in r.header.stages {
            for b in stage.batches.indices {
                rows.append(.batch("\(stage.name) · batch \(b + 1)"))
                rows += r.hosts(stage: stage.name, batch: b + 1).map(Row.host)
            }
        }
        let end = max(1, lastTime(r))
        let plot = width - labelWidth - 20
        func x(_ ms: Int) -> Double { labelWidth + Double(ms) / Double(end) * plot }
        let height = top + Double(rows.count) * rowHeight + 8
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"\(n(width))\" height=\"\(n(height))\""
        s += " viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"timeline of the hosts by batch\">\n"
        for tick in ticks(end) {
            let tx = x(tick)
            s += "<line class=\"tick\" x1=\"\(n(tx))\" y1=\"\(n(top - 6))\" x2=\"\(n(tx))\" y2=\"\(n(height - 8))\"/>"
            s +=
                "<text class=\"tick-label\" x=\"\(n(tx))\" y=\"\(n(top - 10))\" text-anchor=\"middle\">\(RunHTML.escape(RunText.duration(tick)))</text>\n"
        }
        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * rowHeight
            switch row {
            case .batch(let title):
                s += "<text class=\"batch-label\" x=\"4\" y=\"\(n(y + 13))\">\(RunHTML.escape(title))</text>"
                s += "<line class=\"batch-rule\" x1=\"\(n(labelWidth))\" y1=\"\(n(y + 9))\" x2=\"\(n(width - 20))\" y2=\"\(n(y + 9))\"/>\n"
            case .host(let h):
                let status = HostStatus(h)
                s += "<text class=\"host-label\" x=\"16\" y=\"\(n(y + 13))\">\(RunHTML.escape(h.host))</text>"
                if let start = r.offsetMs(h.startedAt) {
                    let stop = r.offsetMs(h.finishedAt) ?? end
                    let x0 = x(start), w = max(2, x(stop) - x0)
                    let title = "\(h.host): \(status.label), from +\(RunText.duration(start)) for \(RunText.duration(stop - start))"
                    s += "<rect class=\"bar \(RunHTML.statusClass(status))\" data-host=\"\(RunHTML.escape(h.host))\" x=\"\(n(x0))\""
                    s += " y=\"\(n(y + 3))\" width=\"\(n(w))\" height=\"\(n(rowHeight - 6))\" rx=\"2\">"
                    s += "<title>\(RunHTML.escape(title))</title></rect>\n"
                } else {
                    s += "<text class=\"no-bar\" x=\"\(n(labelWidth + 4))\" y=\"\(n(y + 13))\">\(RunHTML.escape(status.label))</text>\n"
                }
            }
        }
        return s + "</svg>"
    }

    enum Row {
        case batch(String)
        case host(HostRecord)
    }

    /// The latest offset the journal shows: the run's finish, else the last host time.
    static func lastTime(_ r: RunRecord) -> Int {
        var times = r.hosts.flatMap { [r.offsetMs($0.startedAt), r.offsetMs($0.finishedAt)] }.compactMap { $0 }
        if let d = r.durationMs { times.append(d) }
        return times.max() ?? 0
    }

    /// Round times for the axis: the smallest step that gives at most 8 ticks.
    static func ticks(_ end: Int) -> [Int] {
        let steps = [
            100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
            900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
        ]
        let step = steps.first { end / $0 <= 8 } ?? max(1, end / 8)
        return Array(stride(from: 0, through: end, by: step))
    }

    /// A coordinate with at most one decimal.
    static func n(_ v: Double) -> String {
        // Journal times span 10,000 years at most, so coordinates stay far below this; the
        // clamp keeps a hostile journal from ever reaching Int's limit (a trap).
        let tenths = Int((min(max(v, -1e15), 1e15) * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(abs(tenths % 10))"
    }
}
