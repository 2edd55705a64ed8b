import FleetConfig
import FleetCore
import FleetLocal
import FleetRollout
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `plan --detect` against the real local fleet: the showcase playbooks' version commands
/// run over SSH on hosts with mixed versions, unchanged, through the demo inventories.
@Suite("plan --detect on the local fleet")
struct PlanDetectTests {
    static let root = PlanCommandTests.root

    @Test("the Mattermost version command on 12 hosts of mixed versions; a stopped host is an error of its own")
    func detectMattermost() async throws {
        let spec = FleetSpec(
            groups: [.init("staging", 3), .init("prod", 9)], app: "mattermost",
            versions: ["5.0.0", "5.1.0", "5.2.0", "5.3.0"])
        try await withExecutor(spec) { fleet, executor in
            fleet.stopSSH(on: fleet.hosts[4])
            let book = try PlaybookLoader.load(Self.root + "/playbooks/mattermost.yml")
            let found = await VersionDetector.detect(
                fleet.inventoryHosts, playbook: book, target: Version("5.3.0")!,
                executor: executor, forks: 4)
            for (i, host) in fleet.hosts.enumerated() where i != 4 {
                #expect(found[host.name] == .known(try fleet.installedVersion(of: host), .detected), "\(host.name)")
            }
            guard case .failed(let why)? = found[fleet.hosts[4].name] else {
                Issue.record("expected \(fleet.hosts[4].name) to fail, got \(String(describing: found[fleet.hosts[4].name]))")
                return
            }
            #expect(why.hasPrefix("unreachable: "), "\(why)")
        }
    }

    @Test("fleetup plan --detect: the fleet's inventory plus the demo inventory, the playbook unchanged")
    func planDetect() async throws {
        let spec = FleetSpec(
            groups: [.init("staging", 3), .init("prod", 5)], app: "mattermost",
            versions: ["5.0.0", "5.1.0", "5.2.0", "5.3.0", "4.9.0"])
        try await TestFleet.with(spec) { fleet in
            let r = try await PlanCommandTests.fleetup([
                "plan", "playbooks/mattermost.yml", "-i", fleet.inventoryPath, "-i", "inventories/demo/mattermost.yml",
                "--known-hosts", fleet.knownHosts, "--detect", "--json", "--forks", "3",
            ])
            // prod02 runs 4.9.0, which is not a release: an error for that host, so exit 1.
            #expect(r.status == 1, "stderr: \(r.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(doc["versions_from"] as? String == "detect")
            let hosts = try #require(doc["hosts"] as? [[String: Any]])
            let byName = Dictionary(uniqueKeysWithValues: hosts.map { ($0["host"] as! String, $0) })
            for host in fleet.hosts {
                #expect(byName[host.name]?["version"] as? String == (try fleet.installedVersion(of: host)), "\(host.name)")
                #expect(byName[host.name]?["version_source"] as? String == "detected")
            }
            #expect(byName["staging01"]?["path"] as? [String] == ["5.0.0", "5.1.0", "5.2.0", "5.3.0"])
            #expect(byName["prod01"]?["outcome"] as? String == "already-current")
            #expect(byName["prod02"]?["outcome"] as? String == "error")
            // The steps are the demo host's own: its folders, its port, the file "database".
            let hop = try #require((byName["staging03"]?["hops"] as? [[String: Any]])?.first)
            let commands = (hop["steps"] as? [[String: Any]])?.compactMap { $0["command"] as? String } ?? []
            let host = fleet.hosts[2]
            #expect(
                commands.contains("cp -p \(host.root)/var/lib/mattermost/mattermost.db \(host.root)/var/backups/mattermost/5.2.0/db.file"))
            #expect(commands.first == "systemctl stop mattermost")
            let probe = try #require((byName["staging03"]?["health"] as? [[String: Any]])?.first)
            #expect(probe["port"] as? Int == host.appPort)
            // Reading versions changed nothing on the hosts.
            for host in fleet.hosts { #expect(!FileManager.default.fileExists(atPath: host.root + "/var/backups")) }
        }
    }

    @Test("the Flow version command reads git tags; a checkout off every tag is an error for that host")
    func detectFlow() async throws {
        let spec = FleetSpec(groups: [.init("staging", 2), .init("prod", 4)], app: "flow")
        try await TestFleet.with(spec) { fleet in
            let releases = ["v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.1.1", "v3.1.2"]
            let on = ["v3.0.0", "v3.1.1", "v3.0.2", "v3.1.2", "v3.1.0", "off-tag"]
            let git = try #require(LocalProcess.find("git"))
            for (host, version) in zip(fleet.hosts, on) {
                let dir = host.installDir
                func run(_ args: [String]) async throws {
                    let r = try await TestFleet.runProgram(
                        git, ["-C", dir, "-c", "user.name=fleetup", "-c", "user.email=fleetup@localhost"] + args)
                    #expect(r.status == 0, "git \(args): \(r.stderr)")
                }
                try await run(["init", "-q"])
                for tag in releases {
                    try await run(["commit", "-q", "--allow-empty", "-m", "release \(tag)"])
                    try await run(["tag", tag])
                }
                try await run(["checkout", "-q", version == "off-tag" ? "HEAD~1" : version])
                if version == "off-tag" { try await run(["commit", "-q", "--allow-empty", "-m", "a local patch"]) }
            }
            let r = try await PlanCommandTests.fleetup([
                "plan", "playbooks/flow.yml", "-i", fleet.inventoryPath, "-i", "inventories/demo/flow.yml",
                "--known-hosts", fleet.knownHosts, "--detect", "--json",
            ])
            #expect(r.status == 1, "stderr: \(r.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let hosts = try #require(doc["hosts"] as? [[String: Any]])
            let byName = Dictionary(uniqueKeysWithValues: hosts.map { ($0["host"] as! String, $0) })
            for (host, version) in zip(fleet.hosts, on) where version != "off-tag" {
                #expect(byName[host.name]?["version"] as? String == version, "\(host.name)")
            }
            #expect(byName["staging01"]?["path"] as? [String] == ["v3.0.0", "v3.1.2"])
            #expect(byName["prod02"]?["outcome"] as? String == "already-current")
            let error = byName["prod04"]?["error"] as? String ?? ""
            #expect(error.hasPrefix("version command exit 128: fatal: no tag exactly matches"), "\(error)")
            // One cumulative hop from v3.0.0: streaming restarts (v3.1.0 asks); from v3.1.1 it does not.
            let names = { (host: String) -> [String] in
                ((byName[host]?["hops"] as? [[String: Any]])?.first?["steps"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                    ?? []
            }
            #expect(names("staging01").contains("restart streaming"))
            #expect(!names("staging02").contains("restart streaming"))
            #expect(names("staging01").filter { $0 == "migrate the database" }.count == 1)
        }
    }
}
