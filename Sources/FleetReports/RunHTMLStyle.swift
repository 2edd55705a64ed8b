/// The HTML report's style sheet, inline in the page (its Content-Security-Policy allows
/// inline styles and nothing else). One colour per host status, used by the table dots,
/// the chips and the timeline's bars alike.
enum RunHTMLStyle {
    static let colours: [(String, String)] = [
        ("upgraded", "#2e7d32"), ("already-current", "#81c784"), ("failed", "#c62828"), ("rolled-back", "#ef6c00"),
        ("unreachable", "#6a1b9a"), ("interrupted", "#f9a825"), ("skipped-after-halt", "#9e9e9e"), ("running", "#1565c0"),
        ("pending", "#cfd8dc"),
    ]

    /// Added for a large run's page (grouped timeline, hosts folded by batch); small runs'
    /// pages keep the style sheet above alone.
    static let groupedCSS = """
        svg .more { fill: #57606a; font-style: italic; }
        details.hosts, details.more-failures { margin: 0.2em 0; } details > summary { cursor: pointer; padding: 2px 0; }
        details[open] > summary { font-weight: 600; }

        """

    static let css: String = {
        var s = """

            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto; max-width: 1100px; padding: 16px 24px; }
            h1 { font-size: 1.35em; margin: 0.3em 0; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #d0d7de; }
            h3 { font-size: 1.05em; margin: 0.2em 0 0.5em; } h4 { font-size: 0.95em; margin: 1em 0 0.3em; }
            .outcome-succeeded { color: #2e7d32; } .outcome-failed, .outcome-halted { color: #c62828; }
            .outcome-interrupted, .outcome-waiting-for-approval, .outcome-unfinished { color: #9a6700; }
            dl.about { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0.5em 0; }
            dl.about dt { color: #57606a; } dl.about dd { margin: 0; }
            table { border-collapse: collapse; margin: 0.4em 0; font-size: 0.95em; }
            th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
            th { background: #f6f8fa; } td.num, th.num { text-align: right; }
            tr.bad td { background: #fff1f0; } table.hosts td:not(:last-child), table.steps td:first-child { white-space: nowrap; }
            .chip { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; margin-right: 4px; font-weight: 600; }
            .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; }
            code { font: 0.92em ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; word-break: break-all; }
            pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px; overflow-x: auto; max-height: 30em;
                  font: 0.9em ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; white-space: pre-wrap; }
            pre.stderr { border-left: 4px solid #c62828; }
            article.failure { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; margin: 12px 0; }
            .restore { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; border-radius: 4px; }
            .message { margin: 0.3em 0; } .note, .stream { color: #57606a; margin: 0.4em 0 0.1em; font-size: 0.9em; }
            span.ok { color: #2e7d32; } span.bad { color: #c62828; font-weight: 600; }
            svg.timeline { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
            svg .tick { stroke: #eaeef2; } svg .tick-label { fill: #57606a; } svg .batch-rule { stroke: #d0d7de; }
            svg .batch-label { font-weight: 600; fill: #1f2328; } svg .host-label { fill: #1f2328; } svg .no-bar { fill: #8c959f; font-style: italic; }
            footer { margin-top: 2em; color: #8c959f; font-size: 0.85em; }

            """
        for (status, colour) in colours {
            s += ".chip.st-\(status), .dot.st-\(status) { background: \(colour); } rect.st-\(status) { fill: \(colour); }\n"
        }
        return s
    }()
}
