import FleetCore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup run` connects to every host before it changes anything (design.md §7).
@Suite("run pre-flight: host keys refused before any step, nothing left behind")
struct RunPreflightTests {
    @Test("an unknown host key stops the run before any step and before a run folder exists (exit 3)")
    func refusedKeys() async throws {
        try await TestFleet.with(
            FleetSpec(
                groups: [.init("staging", 1), .init("prod", 1)], layout: .mattermost,
                versions: ["5.2.0"], startApps: true
            ).onServers
        ) { fleet in
            let empty = fleet.directory + "/empty_known_hosts"
            try Data().write(to: URL(fileURLWithPath: empty))
            let state = fleet.directory + "/state"
            let r = try await PlanCommandTests.fleetup([
                "run", "playbooks/mattermost.yml", "-i", fleet.inventoryPath, "-i", "inventories/demo/mattermost.yml",
                "--known-hosts", empty, "--state-dir", state, "--yes",
            ])
            #expect(r.status == 3, "stderr: \(r.stderr)")
            #expect(r.stderr.contains("host keys refused, nothing was changed"))
            for host in fleet.hosts {
                #expect(r.stderr.contains("\(host.name): host-key-unknown"))
                #expect(fleet.serviceLog(of: host).isEmpty)
                #expect(try fleet.installedVersion(of: host) == "5.2.0")
            }
            #expect(!FileManager.default.fileExists(atPath: state + "/runs"))
        }
    }
}
