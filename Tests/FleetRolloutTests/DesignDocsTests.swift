import FleetCore
import Foundation
import Testing

@testable import FleetRollout

/// docs/design.md's worked examples are what the code computes, and every `§` the
/// repository cites is one of its headings.
@Suite("docs/design.md")
struct DesignDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let text = (try? String(contentsOf: root.appendingPathComponent("docs/design.md"), encoding: .utf8)) ?? ""
    static let lines = text.components(separatedBy: "\n")

    /// `## 5. Semantics` -> "5", `### 5.2 Failure policy` -> "5.2".
    static func headingNumber(_ line: String) -> String? {
        guard let m = line.firstMatch(of: #/^#{2,3} ([0-9]+(?:\.[0-9]+)?)[. ]/#) else { return nil }
        return String(m.1)
    }

    /// The lines of section `number`, from its heading to the next numbered heading.
    static func section(_ number: String) -> [String] {
        guard let start = lines.firstIndex(where: { headingNumber($0) == number }) else { return [] }
        let rest = lines[(start + 1)...]
        let end = rest.firstIndex { headingNumber($0) != nil } ?? lines.endIndex
        return Array(lines[(start + 1)..<end])
    }

    /// The rows of the table in `lines` whose header is `header`, each as its cells
    /// (trimmed, backticks removed).
    static func table(_ lines: [String], header: [String]) -> [[String]] {
        func cells(_ line: String) -> [String] {
            line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.replacingOccurrences(of: "`", with: "").trimmingCharacters(in: .whitespaces) }
        }
        guard let h = lines.firstIndex(where: { $0.hasPrefix("|") && cells($0) == header }) else { return [] }
        return lines[(h + 2)...].prefix { $0.hasPrefix("|") }.map(cells)
    }

    static func list(_ cell: String) -> [String] {
        cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `[1, 5, "20%"]`, `"30%"`, `0`: a playbook's `batch`.
    static func serial(_ text: String) throws -> [BatchSize] {
        let t = text.trimmingCharacters(in: .whitespaces)
        let items = t.hasPrefix("[") ? list(String(t.dropFirst().dropLast())) : [t]
        return try items.map { item in
            let bare = item.replacingOccurrences(of: "\"", with: "")
            if bare.hasSuffix("%") { return .percent(try #require(Int(bare.dropLast()))) }
            return .count(try #require(Int(bare)))
        }
    }

    static func duration(_ text: String) throws -> Duration {
        try #require(DurationText.parse(text), "not a duration: \(text)")
    }

    // MARK: §5.1

    @Test("§5.1: every row of the batch table is what BatchPlanner makes")
    func batches() throws {
        let rows = Self.table(Self.section("5.1"), header: ["hosts", "batch", "batches"])
        #expect(rows.count >= 5)
        for required in [["50", "[1, 5, \"20%\"]"], ["20", "\"30%\""], ["3", "[1, 5]"]] {
            #expect(rows.contains { Array($0.prefix(2)) == required }, "missing row \(required)")
        }
        for row in rows {
            let total = try #require(Int(row[0]))
            let expected = Self.list(row[2]).compactMap { Int($0) }
            #expect(BatchPlanner.sizes(total: total, serial: try Self.serial(row[1])) == expected, "\(row)")
        }
    }

    // MARK: §5.2

    @Test("§5.2: the halt thresholds are FailurePolicy's, and the first count that halts does")
    func haltThresholds() throws {
        let rows = Self.table(Self.section("5.2"), header: ["max_fail_percentage", "batch size", "halts at"])
        #expect(rows.count >= 5)
        for row in rows {
            let percent = try #require(Int(row[0])), size = try #require(Int(row[1])), halt = try #require(Int(row[2]))
            let policy = FailurePolicy(maxFailPercentage: percent)
            #expect(policy.haltThreshold(batchSize: size) == halt, "\(row)")
            #expect(!policy.shouldHalt(failedInBatch: halt - 1, batchSize: size, failedTotal: halt - 1), "\(row)")
            if halt <= size {
                #expect(policy.shouldHalt(failedInBatch: halt, batchSize: size, failedTotal: halt), "\(row)")
            }
        }
        // "With `max_failures: 2`, the third failure of the run halts it, whatever the batches."
        let lenient = FailurePolicy(maxFailPercentage: 100, maxFailures: 2)
        #expect(!lenient.shouldHalt(failedInBatch: 1, batchSize: 4, failedTotal: 2))
        #expect(lenient.shouldHalt(failedInBatch: 1, batchSize: 4, failedTotal: 3))
    }

    @Test("§5.2: the plan excerpt's batches and thresholds follow from the batch and percentage it names")
    func planExcerpt() throws {
        let body = Self.section("5.2").joined(separator: "\n")
        let policy = try #require(body.firstMatch(of: #/`batch: ([^`]+)` and `max_fail_percentage: ([0-9]+)`/#))
        let batch = policy.1
        let percent = try #require(Int(policy.2))
        let block = try #require(body.components(separatedBy: "```text\n").dropFirst().first?.components(separatedBy: "```").first)
        let head = try #require(block.firstMatch(of: #/([0-9]+) hosts in ([0-9]+) batches/#))
        let total = try #require(Int(head.1))
        var sizes: [Int] = [], halts: [Int] = []
        for m in block.matches(of: #/batch [0-9]+: ([0-9]+) hosts?, halts at ([0-9]+) failures?/#) {
            sizes.append(Int(m.1)!)
            halts.append(Int(m.2)!)
        }
        #expect(sizes.count == Int(head.2))
        #expect(BatchPlanner.sizes(total: total, serial: try Self.serial(String(batch))) == sizes)
        #expect(sizes.map { FailurePolicy(maxFailPercentage: percent).haltThreshold(batchSize: $0) } == halts)
    }

    // MARK: §5.3

    @Test("§5.3: the defaults are ProbeTiming's")
    func probeDefaults() throws {
        let body = Self.section("5.3").joined(separator: " ")
        let defaults = try #require(body.firstMatch(of: #/Defaults: (.*?)\.( |$)/#)).1
        var seen: [String: String] = [:]
        for m in defaults.matches(of: #/`([a-z_]+)` ([0-9a-z]+)/#) { seen[String(m.1)] = String(m.2) }
        func value(_ key: String) throws -> String { try #require(seen[key], "no default for \(key)") }
        let t = ProbeTiming()
        #expect(try Self.duration(value("initial_delay")) == t.initialDelay)
        #expect(try Self.duration(value("period")) == t.period)
        #expect(try Self.duration(value("timeout")) == t.timeout)
        #expect(try Self.duration(value("deadline")) == t.deadline)
        #expect(try Int(value("success_threshold")) == t.successThreshold)
        #expect(try Int(value("failure_threshold")) == t.failureThreshold)
    }

    @Test("§5.3: every probe example goes through ProbeCounter attempt by attempt, to its verdict")
    func probes() throws {
        let rows = Self.table(Self.section("5.3"), header: ["probe", "attempts (start, result)", "verdict"])
        #expect(rows.count >= 3)
        for row in rows {
            var timing = ProbeTiming()
            for setting in Self.list(row[0]) {
                let kv = setting.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                switch kv[0] {
                case "initial_delay": timing.initialDelay = try Self.duration(kv[1])
                case "period": timing.period = try Self.duration(kv[1])
                case "timeout": timing.timeout = try Self.duration(kv[1])
                case "deadline": timing.deadline = try Self.duration(kv[1])
                case "success_threshold": timing.successThreshold = try #require(Int(kv[1]))
                case "failure_threshold": timing.failureThreshold = try #require(Int(kv[1]))
                default: Issue.record("unknown probe setting \(setting)")
                }
            }
            // `4s fail`, `0s pass (took 3s)`
            let attempts = try Self.list(row[1]).map { a -> (start: Duration, end: Duration, passed: Bool) in
                let m = try #require(a.wholeMatch(of: #/(\S+) (pass|fail)(?: \(took (\S+)\))?/#), "attempt \(a)")
                let start = try Self.duration(String(m.1))
                return (start, start + (try m.3.map { try Self.duration(String($0)) } ?? .zero), m.2 == "pass")
            }
            let verdict = try #require(row[2].wholeMatch(of: #/(healthy|unhealthy) at (\S+): (.+)/#), "verdict \(row[2])")
            var counter = ProbeCounter(timing)
            #expect(counter.firstAttempt == attempts.first?.start, "\(row)")
            for (i, a) in attempts.enumerated() {
                let got = counter.record(startedAt: a.start, endedAt: a.end, passed: a.passed, detail: "")
                if i + 1 < attempts.count {
                    #expect(got == .next(at: attempts[i + 1].start), "\(row): attempt \(i + 1)")
                } else {
                    let why = String(verdict.3)
                    #expect(got == (verdict.1 == "healthy" ? .healthy(why) : .unhealthy(why)), "\(row)")
                    #expect(a.end == (try Self.duration(String(verdict.2))), "\(row)")
                }
            }
        }
    }

    // MARK: §5.5

    static func releases(_ cell: String) throws -> [Release] {
        try list(cell).map { item in
            let waypoint = item.hasSuffix("(waypoint)")
            let text = waypoint ? String(item.dropLast("(waypoint)".count)).trimmingCharacters(in: .whitespaces) : item
            return Release(try #require(Version(text), "release \(text)"), waypoint: waypoint)
        }
    }

    @Test("§5.5: every worked path is what UpgradePathPlanner plans, errors word for word")
    func paths() throws {
        let rows = Self.table(Self.section("5.5"), header: ["path", "releases", "from", "to", "hops"])
        #expect(rows.count >= 3)
        for row in rows {
            let mode = try #require(PathMode(rawValue: row[0]))
            let releases = try Self.releases(row[1])
            let from = try #require(Version(row[2])), to = try #require(Version(row[3]))
            let hops = row[4]
            if hops.hasPrefix("error: ") {
                let message = String(hops.dropFirst("error: ".count))
                #expect { try UpgradePathPlanner.legs(from: from, to: to, releases: releases, mode: mode) } throws: { error in
                    (error as? PathError)?.message.hasPrefix(message) == true
                }
                continue
            }
            let legs = try UpgradePathPlanner.legs(from: from, to: to, releases: releases, mode: mode)
            let expected = hops.hasPrefix("none") ? [] : Self.list(hops)
            #expect(legs.map { "\($0.from.version.text) -> \($0.to.version.text)" } == expected, "\(row)")
        }
        #expect(rows.contains { $0[0] == "sequential" && $0[2] == "5.0.0" && $0[3] == "5.3.0" && Self.list($0[4]).count == 3 })
    }

    @Test("§5.5: the cumulative merge example is what a cumulative hop over those releases runs")
    func cumulativeMerge() throws {
        let lines = Self.section("5.5")
        let rows = Self.table(lines, header: ["release", "its own steps"])
        #expect(rows.count >= 3)
        let merged = Self.list(String(try #require(lines.first { $0.hasPrefix("merged: ") }).dropFirst("merged: ".count)))
        // `Flow v3.0.0 -> v3.1.2:` names the host's release and the target; the table lists
        // the releases after the host's, each step running the command it is named after.
        let ends = try #require(lines.lazy.compactMap { $0.wholeMatch(of: #/Flow (\S+) -> (\S+):/#) }.first)
        let from = try #require(Version(String(ends.1))), to = try #require(Version(String(ends.2)))
        let releases =
            [Release(from)]
            + (try rows.map { row in
                Release(
                    try #require(Version(row[0])),
                    steps: try Self.list(row[1]).map { name in
                        Step(name: name, action: .run(try Template(parsing: name)))
                    })
            })
        #expect(releases.last?.version == to)
        let book = Playbook(
            name: "merge", file: "merge.yml", hosts: "all",
            version: VersionSpec(detect: try Template(parsing: "true"), target: to),
            releases: releases, path: .cumulative, steps: [.releaseSteps(line: nil)])
        let hops = try UpgradePathPlanner.path(from: from, to: to, playbook: book, scope: Playbooks.scope(book))
        #expect(hops.count == 1)
        #expect(hops.first?.releases == rows.map { $0[0] })
        #expect(hops.first?.steps.map(\.name) == merged)
    }

    // MARK: the repository's citations

    /// Swift and Markdown files under Sources/, Tests/ and docs/, and README.md.
    static func citingFiles() -> [URL] {
        var out = [root.appendingPathComponent("README.md")]
        for folder in ["Sources", "Tests", "docs"] {
            let e = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = e?.nextObject() as? URL {
                if ["swift", "md"].contains(url.pathExtension) { out.append(url) }
            }
        }
        return out
    }

    @Test("every §N.M cited under Sources/, Tests/, docs/ and in README.md is a heading of docs/design.md")
    func citations() throws {
        let headings = Set(Self.lines.compactMap(Self.headingNumber))
        // The numbering is stable: §1 … §8, and §5.1 … §5.7.
        #expect(Set((1...8).map { "\($0)" } + (1...7).map { "5.\($0)" }).isSubset(of: headings))
        var cited = 0
        for url in Self.citingFiles() {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            for m in text.matches(of: #/§ ?([0-9]+(?:\.[0-9]+)?)/#) {
                cited += 1
                #expect(headings.contains(String(m.1)), "\(url.path) cites §\(m.1), which docs/design.md does not have")
            }
        }
        #expect(cited > 20)
    }

    @Test("nothing in the repository points outside it for the design")
    func selfContained() throws {
        let needles = ["..", "shared/"].joined(separator: "/")
        let absolute = ["", "work", "shared"].joined(separator: "/")
        var checked = 0
        for folder in ["Sources", "Tests", "docs", "scripts", "playbooks", "inventories", ".ci"] {
            let e = FileManager.default.enumerator(at: Self.root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = e?.nextObject() as? URL {
                guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
                checked += 1
                #expect(!text.contains(needles) && !text.contains(absolute), "\(url.path) points outside the repository")
            }
        }
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(!readme.contains(needles) && !readme.contains(absolute))
        #expect(readme.contains("docs/design.md"))
        #expect(checked > 100)
    }
}
