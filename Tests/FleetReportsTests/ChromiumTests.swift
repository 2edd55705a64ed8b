import FleetLocal
import FleetReports
import FleetTestSupport
import Foundation
import Testing

/// The HTML report opened in a real browser: headless Chromium (Debian `chromium`) loads the
/// file and prints the DOM it built, with every host name resolving to nowhere and a net log
/// of what it asked the network for.
@Suite("run report: the HTML in headless Chromium", .enabled(if: Needed.runs("chromium")))
struct ChromiumTests {
    struct Load {
        var dom: String
        /// URLs the page asked for (Chromium's own background requests left out).
        var pageRequests: [String]
    }

    /// Loads `html` from a file and returns the DOM and the page's requests.
    static func load(_ html: String) async throws -> Load {
        let chromium = try #require(Needed.program("chromium"), "chromium is missing on CI: scripts/lib/ensure-packages installs it")
        let dir = NSTemporaryDirectory() + "chromium-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/profile", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = dir + "/report.html"
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start. `timeout`
        // ends a browser that hangs, so the test fails instead of waiting forever.
        let r = try await LocalProcess.result(
            of: "/usr/bin/timeout",
            [
                "120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=\(dir)/profile", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--log-net-log=\(dir)/net.json", "--dump-dom", "file://\(page)",
            ])
        #expect(r.status == 0, "chromium: \(r.stderr.suffix(2000))")
        return Load(dom: r.stdout, pageRequests: try pageRequests(netLog: dir + "/net.json"))
    }

    /// The URL requests the page made: those whose network isolation key is the page's
    /// file:// origin. Chromium's own requests (update checks and the like, which the
    /// resolver rules fail anyway) have another key and are left out.
    static func pageRequests(netLog path: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let log = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let constants = try #require(log["constants"] as? [String: Any])
        let types = try #require(constants["logEventTypes"] as? [String: Int])
        let start = try #require(types["URL_REQUEST_START_JOB"])
        let events = try #require(log["events"] as? [[String: Any]])
        return events.compactMap { e -> String? in
            guard (e["type"] as? Int) == start, let p = e["params"] as? [String: Any], let url = p["url"] as? String,
                (p["network_isolation_key"] as? String)?.contains("file://") == true, !url.hasPrefix("file:")
            else { return nil }
            return url
        }
    }

    @Test("the host rows and the SVG timeline are in the DOM, and the page fetched nothing")
    func report() async throws {
        let record = Runs.halted
        let load = try await Self.load(RunReports.render(record, .html))
        let dom = load.dom
        #expect(dom.contains("<svg") && dom.contains("class=\"timeline\""))
        #expect(dom.components(separatedBy: "<tr class=\"host ").count - 1 == record.hosts.count)
        for h in record.hosts { #expect(dom.contains("data-host=\"\(h.host)\""), "no row for \(h.host)") }
        let bars = record.hosts.filter { $0.startedAt != nil }.count
        #expect(dom.components(separatedBy: "<rect class=\"bar ").count - 1 == bars)
        // The markup in the output is text in the DOM, not an element.
        #expect(!dom.contains("<script") && dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;"))
        #expect(load.pageRequests.isEmpty, "the report fetched \(load.pageRequests)")
    }

    @Test("a 5,000-host run: a row per batch in the timeline, every host in the page, the failed ones drawn, nothing fetched")
    func large() async throws {
        let record = LargeRun.record(hosts: 5000)
        let load = try await Self.load(RunReports.render(record, .html))
        let dom = load.dom
        let timeline = try #require(dom.range(of: "<section id=\"timeline\">").map { dom[$0.lowerBound...] })
        let svg = timeline[..<(try #require(timeline.range(of: "</svg>")).upperBound)]
        // Bounded: the SVG holds a row per batch and one per host that needs a look.
        #expect(svg.components(separatedBy: "<text class=\"batch-label\"").count - 1 == 11)
        #expect(svg.components(separatedBy: "<rect ").count - 1 < 30, "\(svg.components(separatedBy: "<rect ").count - 1) rects")
        #expect(!svg.contains("<details"))
        // Each failed host drawn, and detailed outside any folded section.
        for host in LargeRun.failures(record) {
            #expect(svg.contains("data-host=\"\(host)\""), "no bar for \(host)")
            let article = try #require(dom.range(of: "<article class=\"failure st-").map { dom[$0.lowerBound...] })
            #expect(article.contains("data-host=\"\(host)\""))
        }
        #expect(!dom.contains("<details class=\"more-failures\""))
        // Every host in the page: a row in its batch's folded table (one pass over the DOM).
        let rows = dom.components(separatedBy: "<tr class=\"host ").dropFirst()
        #expect(rows.count == record.hosts.count)
        let named = Set(
            rows.compactMap { row in row.firstRange(of: "data-host=\"").map { String(row[$0.upperBound...].prefix { $0 != "\"" }) } })
        for h in record.hosts where !named.contains(h.host) { Issue.record("no row for \(h.host)") }
        #expect(load.pageRequests.isEmpty, "the report fetched \(load.pageRequests)")
    }

    @Test("the checks can fail: a page with external assets is caught, and the report's CSP blocks one slipped in")
    func controls() async throws {
        // Without a CSP, an image and a style sheet are asked for: the net log shows them.
        let open = try await Self.load(
            "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/probe.png\">"
                + "<link rel=\"stylesheet\" href=\"https://assets.example.invalid/x.css\"></body></html>")
        #expect(open.pageRequests.contains("http://127.0.0.1:9/probe.png"), "\(open.pageRequests)")
        #expect(open.pageRequests.contains("https://assets.example.invalid/x.css"), "\(open.pageRequests)")
        // The report's own policy: an image slipped into it is never requested.
        let html = RunReports.render(Runs.halted, .html)
            .replacingOccurrences(of: "<body>", with: "<body><img src=\"http://127.0.0.1:9/slipped.png\">")
        let report = try await Self.load(html)
        #expect(report.dom.contains("slipped.png"))
        #expect(report.pageRequests.isEmpty, "\(report.pageRequests)")
    }
}
