import FleetConfig
import FleetCore
import Foundation
import Testing

/// Writes `text` to a temporary inventory file and loads it.
func loadYAML(_ text: String) throws -> Inventory {
    let path = NSTemporaryDirectory() + "inv-\(UUID().uuidString).yml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try InventoryLoader.load([path])
}

func loadError(_ text: String) -> ConfigError? {
    do {
        _ = try loadYAML(text)
        return nil
    } catch let e as ConfigError {
        return e
    } catch {
        return nil
    }
}

@Suite("YAML inventories and host lists")
struct MinimalInventoryTests {
    static let fleet = """
        all:
          vars: { app: mm, level: all }
          children:
            staging:
              vars: { level: staging }
              hosts:
                stg1: { ansible_host: 127.0.0.1, ansible_port: 2201 }
            prod:
              vars: { level: prod }
              children:
                prod_eu:
                  vars: { level: prod_eu }
                  hosts:
                    eu1:
                    eu2: { level: eu2-host }
                prod_us:
                  hosts:
                    us1:2222:
        """

    @Test("groups, children, hosts in order; vars merge all < parent < child < host")
    func precedence() throws {
        let inv = try loadYAML(Self.fleet)
        #expect(inv.hosts.map(\.name) == ["stg1", "eu1", "eu2", "us1"])
        #expect(inv.host(named: "stg1")?.vars["level"] == .string("staging"))
        #expect(inv.host(named: "eu1")?.vars["level"] == .string("prod_eu"))
        #expect(inv.host(named: "eu2")?.vars["level"] == .string("eu2-host"))
        #expect(inv.host(named: "us1")?.vars["level"] == .string("prod"))
        #expect(inv.host(named: "us1")?.vars["ansible_port"] == .int(2222))
        #expect(inv.host(named: "eu1")?.vars["app"] == .string("mm"))
        #expect(inv.host(named: "eu1")?.groups == ["prod", "prod_eu"])
        #expect(inv.hosts(in: "prod").map(\.name) == ["eu1", "eu2", "us1"])
        #expect(inv.host(named: "stg1")?.connection.port == 2201)
    }

    @Test("ansible_group_priority breaks ties between groups of the same depth")
    func priority() throws {
        let inv = try loadYAML(
            """
            all:
              children:
                a: { vars: { x: a, ansible_group_priority: 10 }, hosts: { h: } }
                b: { vars: { x: b }, hosts: { h: } }
            """)
        #expect(inv.host(named: "h")?.vars["x"] == .string("a"))
    }

    @Test("a host in no group is ungrouped; an empty file is an empty inventory")
    func ungrouped() throws {
        let inv = try loadYAML("all:\n  hosts:\n    lone:\n")
        #expect(inv.groups["ungrouped"]?.hosts == ["lone"])
        #expect(try loadYAML("").hosts.isEmpty)
    }

    @Test("a comma list is an inventory of ungrouped hosts")
    func hostList() throws {
        let inv = try InventoryLoader.load(["web1,web2:2200,"])
        #expect(inv.hosts.map(\.name) == ["web1", "web2"])
        #expect(inv.host(named: "web2")?.connection.port == 2200)
    }

    @Test(
        "errors name file and line",
        arguments: [
            ("all:\n  hosts: [a, b]\n", 2, "hosts must be a mapping"),
            ("all:\n  children:\n    g:\n      hostz: {}\n", 4, "unknown key \"hostz\""),
            ("all:\n  hosts:\n    h:9x9:\n", 3, "is not a port"),
            ("all: [\n", 2, "invalid YAML"),
            ("- a\n", 1, "expected a mapping of groups"),
        ])
    func errors(text: String, line: Int, message: String) throws {
        let e = try #require(loadError(text))
        #expect(e.line == line)
        #expect(e.message.contains(message))
    }

    @Test("a group that is its own ancestor is refused")
    func cycle() throws {
        let e = try #require(loadError("all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n"))
        #expect(e.message.contains("its own ancestor"))
    }

    @Test("a missing file is an error, not an empty inventory")
    func missing() {
        #expect(throws: ConfigError.self) { try InventoryLoader.load(["/no/such/inventory.yml"]) }
    }
}

@Suite("host patterns (minimal)")
struct MinimalPatternTests {
    @Test(
        "patterns",
        arguments: [
            ("all", ["stg1", "eu1", "eu2", "us1"]),
            ("prod", ["eu1", "eu2", "us1"]),
            ("staging:prod_us", ["stg1", "us1"]),
            ("staging,eu1", ["stg1", "eu1"]),
            ("prod:!eu2", ["eu1", "us1"]),
            ("all:&prod_eu", ["eu1", "eu2"]),
            ("!eu1:prod", ["eu2", "us1"]),  // exclusions apply after the unions, wherever written
            ("eu*", ["eu1", "eu2"]),
            ("prod_*", ["eu1", "eu2", "us1"]),
        ])
    func select(pattern: String, expected: [String]) throws {
        let inv = try loadYAML(MinimalInventoryTests.fleet)
        #expect(try HostPattern.select(pattern, in: inv).map(\.name) == expected)
    }

    @Test("an unknown name or an empty match is an error naming the pattern")
    func emptyMatch() throws {
        let inv = try loadYAML(MinimalInventoryTests.fleet)
        #expect { try HostPattern.select("nope", in: inv) } throws: { ($0 as? ConfigError)?.message.contains("\"nope\"") == true }
        #expect { try HostPattern.select("prod:&staging", in: inv) } throws: {
            ($0 as? ConfigError)?.message.contains("matches no host") == true
        }
    }
}
