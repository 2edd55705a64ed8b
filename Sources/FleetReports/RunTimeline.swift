import FleetCore

/// The HTML report's timeline: an inline SVG with a row per host, grouped by batch, and a
/// bar from the host's start to its finish (journal times, relative to the run's start),
/// coloured by outcome. Hosts that never started (skipped after a halt, pending) get a row
/// with no bar; a host still running when the journal ends gets a bar to the last time
/// the journal knows.
///
/// A run of more than `hostRowsUpTo` hosts gets a row per batch instead (`groupedRows`), so
/// what the browser draws does not grow with the fleet.
enum RunTimeline {
    static let width = 960.0
    static let labelWidth = 230.0
    static let rowHeight = 18.0
    static let top = 28.0

    /// Runs of up to this many hosts get a row per host; larger ones the grouped timeline.
    static let hostRowsUpTo = 100
    /// At most this many rows of batches: more batches are drawn as runs of consecutive ones.
    static let groupRows = 100
    /// At most this many hosts that need a look get a row of their own in the grouped timeline.
    static let attentionRows = 100

    static func isGrouped(_ r: RunRecord) -> Bool { r.hosts.count > hostRowsUpTo }

    static func svg(_ r: RunRecord) -> String {
        isGrouped(r)
            ? draw(groupedRows(r), r, label: "timeline of the batches") : draw(hostRows(r), r, label: "timeline of the hosts by batch")
    }

    /// A title row per batch, then a row per host.
    static func hostRows(_ r: RunRecord) -> [Row] {
        var rows: [Row] = []
        for stage in r.header.stages {
            for b in stage.batches.indices {
                rows.append(.batch("\(stage.name) · batch \(b + 1)"))
                rows += r.hosts(stage: stage.name, batch: b + 1).map(Row.host)
            }
        }
        return rows
    }

    /// A row per batch (or run of batches), each followed by rows of its hosts that need a
    /// look, `attentionRows` of them in all, then a count of the rest.
    static func groupedRows(_ r: RunRecord) -> [Row] {
        var rows: [Row] = []
        var left = attentionRows
        for group in BatchGroup.all(r) {
            rows.append(.group(group.title, group.hosts.map(\.host)))
            let attention = group.hosts.map(\.host).filter(needsLook)
            rows += attention.prefix(left).map(Row.host)
            if attention.count > left { rows.append(.more(attention.count - left)) }
            left = max(0, left - attention.count)
        }
        return rows
    }

    /// Failed, rolled back, unreachable, interrupted or still running: a host the grouped
    /// timeline draws on its own, and the Failures section details.
    static func needsLook(_ h: HostRecord) -> Bool { HostStatus(h).needsAttention || h.state == .running }

    static func draw(_ rows: [Row], _ r: RunRecord, label: String) -> String {
        let end = max(1, lastTime(r))
        let plot = width - labelWidth - 20
        func x(_ ms: Int) -> Double { labelWidth + Double(ms) / Double(end) * plot }
        let height = top + Double(rows.count) * rowHeight + 8
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"\(n(width))\" height=\"\(n(height))\""
        s += " viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(label)\">\n"
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
            case .group(let title, let hosts):
                s += "<text class=\"batch-label\" x=\"4\" y=\"\(n(y + 13))\">\(RunHTML.escape(title)) · \(hosts.count) hosts</text>"
                s += bands(hosts, title: title, y: y + 3, r: r, end: end, x: x)
            case .more(let count):
                s += "<text class=\"more\" x=\"16\" y=\"\(n(y + 13))\">… \(count) more that need a look: see Failures</text>\n"
            }
        }
        return s + "</svg>"
    }

    /// A batch's bands: one per status of its hosts that started, from the first start to
    /// the last finish of the hosts with that status, as thick as their share of the batch
    /// (2 px at least, so one failed host of 500 still shows); stacked in the order reports
    /// list statuses. Hosts that never started are said in words after the bands.
    static func bands(_ hosts: [HostRecord], title: String, y: Double, r: RunRecord, end: Int, x: (Int) -> Double) -> String {
        var spans: [(status: HostStatus, count: Int, from: Int, to: Int)] = []
        var unstarted = StatusCounts()
        for status in HostStatus.all {
            var count = 0, from = Int.max, to = Int.min
            for h in hosts where HostStatus(h) == status {
                guard let start = r.offsetMs(h.startedAt) else {
                    unstarted.add(status)
                    continue
                }
                count += 1
                from = min(from, start)
                to = max(to, r.offsetMs(h.finishedAt) ?? end)
            }
            if count > 0 { spans.append((status, count, from, to)) }
        }
        let area = rowHeight - 6
        var heights = spans.map { max(2, area * Double($0.count) / Double(max(1, hosts.count))) }
        // The 2 px floors can overfill the row: the thickest band gives the room back.
        if let thickest = heights.indices.max(by: { heights[$0] < heights[$1] }) {
            heights[thickest] = max(2, heights[thickest] - max(0, heights.reduce(0, +) - area))
        }
        var s = ""
        var top = y
        for (span, h) in zip(spans, heights) {
            let x0 = x(span.from), w = max(2, x(span.to) - x0)
            let text =
                "\(title): \(span.count) \(span.status.label), from +\(RunText.duration(span.from)) to +\(RunText.duration(span.to))"
            s += "<rect class=\"band \(RunHTML.statusClass(span.status))\" x=\"\(n(x0))\" y=\"\(n(top))\" width=\"\(n(w))\""
            s += " height=\"\(n(h))\"><title>\(RunHTML.escape(text))</title></rect>"
            top += h
        }
        if unstarted.total > 0 {
            let at = spans.isEmpty ? labelWidth + 4 : spans.map { x($0.to) }.max()! + 6
            s += "<text class=\"no-bar\" x=\"\(n(at))\" y=\"\(n(y + 10))\">\(RunHTML.escape(unstarted.text))</text>"
        }
        return s + "\n"
    }

    enum Row {
        case batch(String)
        case host(HostRecord)
        /// A batch, or a run of consecutive batches, as one row of bands.
        case group(String, [HostRecord])
        /// How many hosts that need a look have no row of their own.
        case more(Int)
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

/// The batches of a large run as the HTML page groups them: one group per batch, or per run
/// of consecutive batches of a stage when there are more than `RunTimeline.groupRows`
/// batches; every host of the record in exactly one group, with its place in the record
/// (the page's `host-N` and `failure-N` anchors).
struct BatchGroup {
    var stage: String
    var batches: ClosedRange<Int>
    var hosts: [(index: Int, host: HostRecord)]

    /// `prod · batch 3`, `prod · batches 4–6`.
    var title: String {
        batches.count == 1
            ? "\(stage) · batch \(batches.lowerBound)" : "\(stage) · batches \(batches.lowerBound)–\(batches.upperBound)"
    }

    static func all(_ r: RunRecord) -> [BatchGroup] {
        let batches = r.header.stages.reduce(0) { $0 + $1.batches.count }
        let per = max(1, (batches + RunTimeline.groupRows - 1) / RunTimeline.groupRows)
        var groups: [BatchGroup] = []
        // The record lists hosts by stage and batch: a group ends where the stage or the run
        // of batches changes.
        for (i, h) in r.hosts.enumerated() {
            if let g = groups.last, g.stage == h.stage, (g.batches.lowerBound - 1) / per == (h.batch - 1) / per {
                groups[groups.count - 1].batches = min(g.batches.lowerBound, h.batch)...max(g.batches.upperBound, h.batch)
                groups[groups.count - 1].hosts.append((i, h))
            } else {
                groups.append(BatchGroup(stage: h.stage, batches: h.batch...h.batch, hosts: [(i, h)]))
            }
        }
        return groups
    }
}
