import FleetConfig
import FleetCore
import Foundation
import Testing

/// Every `ini` and `yaml` block of docs/inventory.md is a complete inventory that loads,
/// so the page cannot drift from what the loader accepts.
@Suite("docs/inventory.md examples")
struct InventoryDocsTests {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/inventory.md")

    /// (language, text) of each fenced block.
    static func blocks() throws -> [(String, String)] {
        let text = try String(contentsOf: page, encoding: .utf8)
        var out: [(String, String)] = []
        var lang: String? = nil
        var body: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let l = lang {
                    out.append((l, body.joined(separator: "\n"))); lang = nil; body = []
                } else {
                    lang = String(line.dropFirst(3))
                }
            } else if lang != nil {
                body.append(line)
            }
        }
        return out
    }

    @Test("every ini and yaml example loads")
    func examplesLoad() throws {
        let examples = try Self.blocks().filter { ["ini", "yaml"].contains($0.0) }
        #expect(examples.count >= 2)
        for (lang, text) in examples {
            let path = NSTemporaryDirectory() + "doc-\(UUID().uuidString).\(lang == "ini" ? "ini" : "yml")"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let inv = try InventoryLoader.load([path])
            #expect(inv.hosts.count >= 8, "\(lang) example: \(inv.hosts.map(\.name))")
            #expect(try HostPattern.select("web", in: inv).count == 5)
        }
    }
}
