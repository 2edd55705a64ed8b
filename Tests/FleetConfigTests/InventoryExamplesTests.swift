import FleetConfig
import FleetCore
import Foundation
import Testing

/// Every file in inventories/ loads, and each app's INI and YAML files describe the same
/// fleet (so the examples cannot drift apart, nor rot).
@Suite("the example inventories")
struct InventoryExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("inventories")

    static func load(_ paths: String...) throws -> Inventory {
        var warnings: [ConfigWarning] = []
        let inv = try InventoryLoader.load(paths.map { root.appendingPathComponent($0).path }, warnings: &warnings)
        #expect(warnings.isEmpty, "\(warnings)")
        return inv
    }

    static func listing(_ inv: Inventory) -> String { PythonJSON.render(InventoryRender.list(inv)) }

    @Test("INI, YAML and the whole folder give the same inventory", arguments: ["mattermost", "flow"])
    func formatsAgree(app: String) throws {
        let ini = try Self.load("\(app)/hosts.ini"), yaml = try Self.load("\(app)/hosts.yml")
        #expect(Self.listing(ini) == Self.listing(yaml))
        #expect(Self.listing(try Self.load(app)) == Self.listing(ini))
        #expect(ini.hosts.map(\.name) == yaml.hosts.map(\.name))
    }

    @Test("mattermost: stages, ranges and precedence")
    func mattermost() throws {
        let inv = try Self.load("mattermost/hosts.ini")
        #expect(
            try HostPattern.select("staging", in: inv).map(\.name) == ["mm-staging-1.chat.example.com", "mm-staging-2.chat.example.com"])
        #expect(try HostPattern.select("prod", in: inv).count == 7)
        let eu1 = try #require(inv.host(named: "mm-eu-01.chat.example.com"))
        #expect(eu1.vars["backup_dir"] == .string("/srv/big/backups"))  // host_vars beats group_vars/all
        #expect(eu1.vars["ansible_become"] == .bool(true))
        #expect(eu1.connection.user == "deploy")
        #expect(inv.host(named: "mm-us-02.chat.example.com")?.connection.user == "mmadmin")  // inline host var beats group_vars
        #expect(eu1.connection.identityFiles == ["~/.ssh/fleet_ed25519"])
    }

    @Test("flow: a group_vars folder, alphabetic ranges")
    func flow() throws {
        let inv = try Self.load("flow/hosts.yml")
        #expect(
            try HostPattern.select("prod_streaming", in: inv).map(\.name) == [
                "flow-streama.social.example.com", "flow-streamb.social.example.com",
            ])
        #expect(inv.host(named: "flow-app03.social.example.com")?.connection.port == 2222)  // group_vars/prod/ beats group_vars/all
        #expect(inv.host(named: "flow-stg-app1.social.example.com")?.connection.port == 22)
        #expect(inv.host(named: "flow-stg-app1.social.example.com")?.connection.address == "192.0.2.10")
    }
}
