import FleetConfig
import FleetCore
import Foundation
import Testing

/// Host patterns against the answers of the real Ansible: Fixtures/patterns/expected.txt
/// holds `pattern => hosts` lines made with `ansible -i inventory.ini PATTERN --list-hosts`
/// (ansible-core 2.19.14), which prints hosts in the order a play would visit them.
@Suite("host patterns against ansible --list-hosts")
struct HostPatternTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/patterns")

    static let table: [(String, [String])] = {
        let text = (try? String(contentsOf: dir.appendingPathComponent("expected.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: " => ") else { return nil }
            return (String(line[..<r.lowerBound]), line[r.upperBound...].split(separator: " ").map(String.init))
        }
    }()

    static func inventory() throws -> Inventory {
        try InventoryLoader.load([dir.appendingPathComponent("inventory.ini").path])
    }

    @Test("the table is there")
    func tableSize() { #expect(Self.table.count >= 30) }

    /// Where fleetup refuses on purpose (docs/inventory.md): Ansible splits on the comma,
    /// warns that the term "prod_us:&web" matches nothing, and goes on without it.
    static let deliberate = ["staging,prod_us:&web": "\"prod_us:&web\" in pattern \"staging,prod_us:&web\" is neither a host nor a group"]

    @Test("same hosts, same order as Ansible", arguments: table)
    func sameAsAnsible(pattern: String, expected: [String]) throws {
        let inv = try Self.inventory()
        if let message = Self.deliberate[pattern] {
            #expect { try HostPattern.select(pattern, in: inv) } throws: { "\($0)".contains(message) }
        } else if expected.isEmpty {
            // Ansible runs nothing, quietly; fleetup says so and stops.
            #expect { try HostPattern.select(pattern, in: inv) } throws: { "\($0)".contains("matches no host") }
        } else {
            #expect(try HostPattern.select(pattern, in: inv).map(\.name) == expected)
        }
    }

    @Test("--limit narrows a pattern and keeps the pattern's order")
    func limit() throws {
        let inv = try Self.inventory()
        #expect(try HostPattern.select("prod:staging", in: inv, limit: "stg2:eu3:us1").map(\.name) == ["eu3", "us1", "stg2"])
        #expect(try HostPattern.limit("db:!db10", in: inv).map(\.name) == ["db1", "db2", "eu3"])
    }

    @Test("@file names one term per line")
    func limitFile() throws {
        let path = NSTemporaryDirectory() + "limit-\(UUID().uuidString).txt"
        try "eu1\n\n  us2  \n!db\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try HostPattern.limit("@\(path)", in: try Self.inventory()).map(\.name) == ["eu1", "us2"])
    }

    @Test(
        "problems name the pattern",
        arguments: [
            ("nope", "\"nope\" in pattern \"nope\" is neither a host nor a group"),
            ("prod:typo*", "\"typo*\" in pattern \"prod:typo*\" is neither a host nor a group"),
            ("~(unclosed", "invalid regular expression \"~(unclosed\""),
            ("prod[9]", "\"prod[9]\" is out of range: the term matches 5 hosts"),
            ("prod[7:9]", "\"prod[7:9]\" selects nothing: the term matches 5 hosts"),
            ("", "empty host pattern"),
            (",", "empty host pattern"),
            ("@/no/such/file", "limit file \"/no/such/file\" does not exist"),
        ])
    func problems(pattern: String, message: String) throws {
        let inv = try Self.inventory()
        #expect { _ = try HostPattern.limit(pattern, in: inv) } throws: { "\($0)".contains(message) }
    }
}
