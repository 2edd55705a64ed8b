import FleetCore
import Foundation
import Testing

@testable import FleetConfig

/// Garbage in never crashes the loader: it either loads or throws a ConfigError naming
/// the file. Inputs are the corpus files cut, spliced and sprinkled with hostile bytes,
/// from a fixed seed so a failure can be replayed.
@Suite("garbage inventories")
struct InventoryFuzzTests {
    /// A small deterministic generator (SplitMix64), so every run tries the same inputs.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static let pieces = [
        "[", "]", ":", "=", "\"", "'", "#", "\n", "[a:", "[1:9999999999]", "[0:2:0]", ":99999", "{{", "- ",
        "  ", "\t", "<<: *x", "&x", "*x", "!!int", "!vault |", "children:", "hosts:", "vars:", "\u{0}",
        "é", "\u{FEFF}", "---", "...", "[g:children]", "[g:vars]", "~", "!secret", "\\", "{", "}", ",",
    ]

    static let patternChars = Array("ab*?[]!&~:,^$()web1230-")

    static func corpusTexts() -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/corpus")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".ini") || $0.hasSuffix(".yml") || $0.hasSuffix("/hosts") }
            .compactMap { try? String(contentsOfFile: root.appendingPathComponent($0).path, encoding: .utf8) }
    }

    @Test("mutated inventories load or fail cleanly", arguments: ["ini", "yml", ""])
    func mutations(ext: String) throws {
        let texts = Self.corpusTexts()
        try #require(!texts.isEmpty)
        var rng = Rng(state: UInt64(ext.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
        let dir = NSTemporaryDirectory() + "fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/hosts" + (ext.isEmpty ? "" : ".\(ext)")
        for _ in 0..<300 {
            var chars = Array(texts[rng.below(texts.count)])
            for _ in 0..<(1 + rng.below(6)) {
                let at = rng.below(chars.count + 1)
                switch rng.below(3) {
                case 0: chars.insert(contentsOf: Self.pieces[rng.below(Self.pieces.count)], at: at)
                case 1: if at < chars.count { chars.removeSubrange(at..<min(chars.count, at + 1 + rng.below(8))) }
                default: chars.insert(contentsOf: texts[rng.below(texts.count)].prefix(rng.below(40)), at: at)
                }
            }
            try String(chars).write(toFile: path, atomically: true, encoding: .utf8)
            do {
                let inv = try InventoryLoader.load([path])
                _ = PythonJSON.render(InventoryRender.list(inv))
                _ = try InventoryRender.graph(inv)
            } catch let e as ConfigError {
                #expect(e.file.hasPrefix(dir), "error names the file: \(e)")
            }
        }
    }

    @Test("random bytes and random patterns never crash")
    func bytesAndPatterns() throws {
        var rng = Rng(state: 42)
        let dir = NSTemporaryDirectory() + "fuzzb-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inv = try InventoryLoader.load(["a,b:2200,web[1:3],"])
        for i in 0..<200 {
            let bytes = (0..<rng.below(200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let path = dir + "/f\(i)" + ["", ".ini", ".yml"][i % 3]
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            _ = try? InventoryLoader.load([path])
            let pattern = String((0..<rng.below(12)).map { _ in Self.patternChars[rng.below(Self.patternChars.count)] })
            _ = try? HostPattern.select(pattern, in: inv)
            _ = try? PythonLiteral.parse(String(decoding: bytes, as: UTF8.self))
        }
    }
}
