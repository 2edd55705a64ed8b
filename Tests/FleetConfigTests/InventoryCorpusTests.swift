import FleetCore
import Foundation
import Testing
import Yams

@testable import FleetConfig

/// The conformance corpus: inventories under Fixtures/corpus/, each with the output the
/// real `ansible-inventory` gave for it (made by regenerate.sh, committed). fleetup must
/// print the same `--list` JSON byte for byte (both sort keys, so key order is out of
/// the picture), the same `--graph` and `--host`, and an equal `--list --yaml` tree.
/// Cases with expected-error.txt are inputs fleetup refuses; the message must match.
@Suite("conformance corpus against ansible-inventory")
struct InventoryCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/corpus")

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }()

    @Test("the corpus is there and large enough")
    func corpusSize() {
        #expect(Self.cases.count >= 40)
        #expect(Self.cases.filter { !FileManager.default.fileExists(atPath: Self.path($0, "expected-error.txt")) }.count >= 40)
    }

    @Test("fleetup agrees with ansible-inventory", arguments: cases)
    func agrees(_ name: String) throws {
        let dir = Self.root.appendingPathComponent(name).path
        let sources = try Self.lines(Self.path(name, "sources")).map { dir + "/" + $0 }
        var warnings: [ConfigWarning] = []
        let expectedError = try? String(contentsOfFile: Self.path(name, "expected-error.txt"), encoding: .utf8)
        let inventory: Inventory
        do {
            inventory = try InventoryLoader.load(sources, warnings: &warnings)
        } catch {
            let got = Self.relative("\(error)", dir)
            #expect(got == expectedError?.trimmed, "\(name): unexpected error")
            return
        }
        #expect(expectedError == nil, "\(name): fleetup accepted an inventory it should refuse")
        let expectedWarnings = (try? Self.lines(Self.path(name, "expected-warnings.txt"))) ?? []
        #expect(warnings.map { Self.relative($0.description, dir) } == expectedWarnings, "\(name): warnings")

        let limit = try? String(contentsOfFile: Self.path(name, "limit"), encoding: .utf8).trimmed
        let hosts = try limit.map { try HostPattern.limit($0, in: inventory) }
        let list = PythonJSON.render(InventoryRender.list(inventory, hosts: hosts))
        try Self.compare(list, name, "expected.json")

        let yamlText = try String(contentsOfFile: Self.path(name, "expected.yaml"), encoding: .utf8)
        let ours = InventoryRender.yaml(InventoryRender.yamlList(inventory, hosts: hosts))
        #expect(try Self.tree(ours) == Self.tree(yamlText), "\(name): --list --yaml differs:\n\(ours)")

        if FileManager.default.fileExists(atPath: Self.path(name, "show-graph")) {
            try Self.compare(try InventoryRender.graph(inventory), name, "expected-graph.txt")
        }
        for host in (try? Self.lines(Self.path(name, "show-hosts"))) ?? [] {
            let h = try #require(inventory.host(named: host))
            try Self.compare(PythonJSON.render(VarValue.map(InventoryRender.hostVars(h)).unmarked), name, "expected-host-\(host).json")
        }
    }

    static func path(_ name: String, _ file: String) -> String {
        root.appendingPathComponent(name).appendingPathComponent(file).path
    }

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    static func relative(_ text: String, _ dir: String) -> String {
        text.replacingOccurrences(of: dir + "/", with: "").replacingOccurrences(of: dir, with: ".")
    }

    /// Exact text comparison; on a mismatch the first differing lines are shown.
    static func compare(_ ours: String, _ name: String, _ file: String) throws {
        let theirs = try String(contentsOfFile: path(name, file), encoding: .utf8).trimmed
        guard ours.trimmed != theirs else { return }
        let a = ours.trimmed.split(separator: "\n", omittingEmptySubsequences: false)
        let b = theirs.split(separator: "\n", omittingEmptySubsequences: false)
        let first = Array(zip(a, b)).firstIndex { $0 != $1 } ?? min(a.count, b.count)
        let show = { (l: [Substring]) in l[max(0, first - 2)..<min(l.count, first + 4)].joined(separator: "\n") }
        Issue.record("\(name): \(file) differs at line \(first + 1)\nfleetup:\n\(show(a))\nansible:\n\(show(b))")
    }

    /// A YAML document as canonical JSON text, so NaN and key order do not get in the way.
    static func tree(_ text: String) throws -> String {
        guard let node = try Yams.compose(yaml: text, YAMLValue.resolver) else { return "null" }
        var warnings: [ConfigWarning] = []
        return PythonJSON.render(try YAMLValue.value(node, file: "", warnings: &warnings), indent: nil)
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
