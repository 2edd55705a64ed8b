import FleetCore
import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup ping` as an operator runs it before anything else.
@Suite("fleetup ping, end to end")
struct PingCommandTests {
    func ping(_ fleet: TestFleet, _ args: [String], knownHosts: String? = nil) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(
            try TestFleet.builtProduct("fleetup"),
            ["ping", "-i", fleet.inventoryPath, "--known-hosts", knownHosts ?? fleet.knownHosts] + args)
    }

    @Test("one line per host: ok with the host key and identity, or exactly why not; exit 1 when some failed")
    func mixed() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            fleet.stopSSH(on: fleet.hosts[1])
            let r = try await ping(fleet, [])
            #expect(r.status == 1)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            let fingerprint = try LocalProcess.run(LocalProcess.find("ssh-keygen")!, ["-lf", fleet.hosts[0].hostKey + ".pub"])
                .split(separator: " ")[1]
            #expect(lines[0].hasPrefix("host01  ok "))
            #expect(lines[0].contains("ssh-ed25519 \(fingerprint)"))
            #expect(lines[0].contains("key \(fleet.clientKey)"))
            #expect(lines[1].hasPrefix("host02  FAILED  unreachable: 127.0.0.1:\(fleet.hosts[1].sshPort): connection refused"))
            #expect(lines[2].hasPrefix("host03  ok "))
            #expect(lines[3] == "3 hosts: 2 ok, 1 failed")
        }
    }

    @Test("-v shows the resolved connection; unknown host keys are a clear failure; none reachable is exit 3")
    func verboseAndRefused() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let r = try await ping(fleet, ["-v", "--limit", "host01"])
            #expect(r.status == 0)
            // First where the run's settings came from (ansible.cfg, if the machine has one), then the host.
            #expect(r.stdout.hasPrefix("ansible.cfg: "), "\(r.stdout)")
            #expect(r.stdout.contains("\nhost01:\n  address        127.0.0.1:\(fleet.hosts[0].sshPort)\n"))
            #expect(r.stdout.contains("  known_hosts    \(fleet.knownHosts)\n"))
            let empty = try await ping(fleet, ["--json"], knownHosts: fleet.directory + "/none")
            #expect(empty.status == 3)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(empty.stdout.utf8)) as? [String: Any])
            let hosts = try #require(doc["hosts"] as? [[String: Any]])
            #expect(hosts.count == 2)
            #expect(hosts.allSatisfy { (($0["error"] as? [String: String])?["kind"]) == "host-key-unknown" })
        }
    }
}
