import FleetCore

/// The status page's chart: the version distribution per stage as an inline SVG, one
/// horizontal bar per version in each stage (and for the whole fleet when there are several
/// stages), its length the number of hosts on that version, coloured by where the version
/// stands against the target (on it, behind, ahead, unknown).
enum StatusChart {
    static let width = 960.0
    static let labelWidth = 170.0
    static let rowHeight = 20.0
    static let top = 8.0

    enum Row {
        case stage(String, hosts: Int)
        case version(stage: String, VersionCount)
    }

    static func rows(_ s: FleetStatus) -> [Row] {
        var groups = s.stages.map { ($0, s.hosts(stage: $0).count, s.distribution(stage: $0)) }
        if s.stages.count > 1 { groups.append(("all stages", s.hosts.count, s.distribution())) }
        return groups.flatMap { name, count, d in [Row.stage(name, hosts: count)] + d.map { Row.version(stage: name, $0) } }
    }

    static func svg(_ s: FleetStatus) -> String {
        let rows = rows(s)
        let most = max(1, s.distribution().map(\.hosts.count).max() ?? 1)
        let plot = width - labelWidth - 60
        let height = top + Double(rows.count) * rowHeight + 8
        let n = RunTimeline.n
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"versions\" width=\"\(n(width))\" height=\"\(n(height))\""
        out += " viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"hosts per version, per stage\">\n"
        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * rowHeight
            switch row {
            case .stage(let name, let hosts):
                out +=
                    "<text class=\"stage-label\" x=\"4\" y=\"\(n(y + 14))\">\(RunHTML.escape("\(name) · \(hosts) \(hosts == 1 ? "host" : "hosts")"))</text>\n"
            case .version(let stage, let v):
                let count = v.hosts.count
                let w = max(2, Double(count) / Double(most) * plot)
                let label = StatusText.version(v.version)
                let cls = driftClass(s, v.version)
                out += "<text class=\"version-label\" x=\"20\" y=\"\(n(y + 14))\">\(RunHTML.escape(label))</text>"
                out += "<rect class=\"bar \(cls)\" data-stage=\"\(RunHTML.escape(stage))\" data-version=\"\(RunHTML.escape(label))\""
                out +=
                    " data-hosts=\"\(count)\" x=\"\(n(labelWidth))\" y=\"\(n(y + 3))\" width=\"\(n(w))\" height=\"\(n(rowHeight - 6))\" rx=\"2\">"
                out += "<title>\(RunHTML.escape("\(stage): \(count) on \(label): \(HostList.compress(v.hosts))"))</title></rect>"
                out += "<text class=\"count\" x=\"\(n(labelWidth + w + 6))\" y=\"\(n(y + 14))\">\(count)</text>\n"
            }
        }
        return out + "</svg>"
    }

    /// `drift-behind`…; `drift-none` without a target.
    static func driftClass(_ s: FleetStatus, _ version: String?) -> String {
        guard let t = s.target.flatMap(Version.init) else { return "drift-none" }
        guard let v = version.flatMap(Version.init) else { return "drift-unknown" }
        return "drift-" + (v == t ? Drift.onTarget : v < t ? .behind : .ahead).rawValue
    }
}
