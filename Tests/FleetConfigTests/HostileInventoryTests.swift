@testable import FleetConfig
import FleetCore
import Foundation
import Testing

/// Hostile inventories (issue 18): each one crashed (stack overflow), hung or filled the
/// memory; now each loads, or gets its exact `file:line: problem` naming the limit. Small
/// ones are fixtures in Fixtures/hostile/inventories/; big ones are generated.
@Suite("hostile inventories")
struct HostileInventoryTests {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/hostile/inventories")

    /// The message each fixture gets (the fixture's path written as its name), or nil when
    /// it loads: those sit at a limit, not past it.
    static let cases: [(String, String?)] = [
        ("nest-200.ini", nil),
        // one bracket more than Python's parser takes; 25,000 overflowed the stack.
        ("nest-201.ini", "nest-201.ini:3: the value of \"deep\" nests lists, tuples or dicts deeper than 200 levels (the limit, as in Python)"),
        ("nest-vars-201.ini", "nest-vars-201.ini:6: the value of \"deep\" nests lists, tuples or dicts deeper than 200 levels (the limit, as in Python)"),
    ]

    @Test("each hostile inventory fixture: its exact message, or it loads", arguments: cases)
    func fixture(file: String, message: String?) throws {
        let path = Self.folder.appendingPathComponent(file).path
        do {
            _ = try InventoryLoader.load([path])
            #expect(message == nil, "\(file) loaded")
        } catch let e as ConfigError {
            #expect(e.description.replacingOccurrences(of: path, with: file) == message)
        }
    }

    @Test("every hostile inventory fixture is in the table")
    func complete() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).sorted()
        #expect(files == Self.cases.map(\.0).sorted())
    }

    /// Inputs too big to commit, written to a temporary file named `name`.
    static let generated: [(name: String, text: @Sendable () -> String, message: String)] = [
        // the reproducer: 25,000 nested `[` overflowed the stack.
        ("deep.ini", { "h x=" + String(repeating: "[", count: 25_000) + "\n" },
         "deep.ini:1: the value of \"x\" nests lists, tuples or dicts deeper than 200 levels (the limit, as in Python)"),
        // a sign before a sign is not a literal (text), so 100,000 of them no longer recurse.
        ("signs.ini", { "h x=" + String(repeating: "-", count: 100_000) + "1\n" }, ""),
    ]

    @Test("generated hostile inventories", arguments: generated.indices)
    func generatedInventory(index: Int) throws {
        let (name, text, message) = Self.generated[index]
        let dir = NSTemporaryDirectory() + "hostile-inv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/" + name
        try text().write(toFile: path, atomically: false, encoding: .utf8)
        do {
            _ = try InventoryLoader.load([path])
            #expect(message.isEmpty, "\(name) loaded")
        } catch let e as ConfigError {
            #expect(e.description.replacingOccurrences(of: path, with: name) == message)
        }
    }
}
