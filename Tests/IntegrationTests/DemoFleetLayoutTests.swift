import FleetConfig
import FleetCore
import FleetLocal
import FleetSSH
import FleetTestSupport
import Foundation
import Testing

@testable import FleetTestFleet

/// The demo fleet's layouts: the texts and release inputs they are built from (pure, or
/// local files only), and the logs and control files every host has.
@Suite("the demo fleet's layouts, logs and controls")
struct DemoFleetLayoutTests {
    static let root = PlanCommandTests.root

    @Test("the fake Flow releases' notes are playbooks/flow.yml's releases, instruction for instruction")
    func flowNotesMatchThePlaybook() throws {
        let book = try PlaybookLoader.load(Self.root + "/playbooks/flow.yml")
        #expect(book.releases.map(\.version.text) == FakeReleases.flowTags)
        for (release, fake) in zip(book.releases, FleetLayout.flowReleases) {
            let steps = release.steps.map { step -> String in
                guard case .run(let t) = step.action else { return "upload" }
                return t.source.replacingOccurrences(of: "{{ rails_env }}", with: "production")
            }
            #expect(steps == fake.instructions, "\(fake.tag)")
            #expect((release.flags["restart_streaming"] ?? false) == fake.restartStreaming, "\(fake.tag)")
            let notes = FleetLayout.flowNotes(fake)
            #expect(fake.instructions.allSatisfy { notes.contains("    \($0)\n") })
        }
        #expect(
            FleetLayout.flowReleasesFile(upTo: 1) == """
                # Flow releases

                ## v3.0.1

                Upgrade instructions, in this order:

                    RAILS_ENV=production bundle exec rails db:migrate

                ## v3.0.0

                No upgrade instructions: check out the tag, restart sidekiq, reload web.

                """)
    }

    @Test("the Flow origin: one annotated tag per release, the same commit ids every time, VERSION and an executable bin/flowctl")
    func flowOrigin() throws {
        let dir = NSTemporaryDirectory() + "flow-origin-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let git = try #require(LocalProcess.find("git"))
        func run(_ repo: String, _ args: [String]) throws -> String {
            try LocalProcess.run(git, ["-C", repo] + args, environment: FakeReleases.gitEnvironment())
        }
        try FakeReleases.writeFlowOrigin(at: dir + "/a.git")
        try FakeReleases.writeFlowOrigin(at: dir + "/b.git")
        let ids = try run(dir + "/a.git", ["show-ref"])
        #expect(try run(dir + "/b.git", ["show-ref"]) == ids)
        #expect(try run(dir + "/a.git", ["tag", "--list"]) == FakeReleases.flowTags.map { $0 + "\n" }.joined())
        for tag in FakeReleases.flowTags {
            #expect(try run(dir + "/a.git", ["show", "\(tag):VERSION"]) == tag + "\n")
            #expect(try run(dir + "/a.git", ["cat-file", "-t", tag]) == "tag\n", "annotated, with the release's notes")
        }
        #expect(try run(dir + "/a.git", ["ls-tree", "v3.0.0", "bin/flowctl"]).hasPrefix("100755 blob "))
        #expect(try run(dir + "/a.git", ["cat-file", "-p", "v3.1.2"]).contains("    RAILS_ENV=production bin/flowctl cache clear\n"))
    }

    @Test("the Mattermost release archives: the real shape without bin/, the same bytes every time")
    func mattermostArchives() throws {
        let dir = NSTemporaryDirectory() + "mm-releases-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try FakeReleases.writeMattermostArchives(in: dir + "/a")
        let second = try FakeReleases.writeMattermostArchives(["5.1.0"], in: dir + "/b")
        #expect(first.map { ($0 as NSString).lastPathComponent } == FakeReleases.mattermostVersions.map(FakeReleases.mattermostArchiveName))
        #expect(FileManager.default.contents(atPath: first[1]) == FileManager.default.contents(atPath: second[0]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a").count == 4, "no work folder left behind")
        let tar = try #require(LocalProcess.find("tar"))
        #expect(
            try LocalProcess.run(tar, ["-tzf", second[0]])
                == "mattermost/\nmattermost/VERSION\nmattermost/config/\nmattermost/config/config.json\n")
        #expect(try LocalProcess.run(tar, ["-xzOf", second[0], "mattermost/VERSION"]) == "5.1.0\n")
        let config = try LocalProcess.run(tar, ["-xzOf", second[0], "mattermost/config/config.json"])
        #expect(config == FleetLayout.mattermostReleaseConfig(version: "5.1.0"))
        #expect(try JSONSerialization.jsonObject(with: Data(config.utf8)) is [String: Any])
    }

    @Test("a host's own config.json is JSON naming the host, its port and its folders")
    func mattermostConfig() throws {
        let host = FleetHost(
            name: "prod03", group: "prod", sshPort: 20000, appPort: 20001, root: "/tmp/a \"quoted\" fleet/hosts/prod03",
            app: "mattermost", layout: .mattermost)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(FleetLayout.mattermostConfig(host).utf8)) as? [String: Any])
        #expect(doc["FleetupHost"] as? String == "prod03")
        #expect((doc["ServiceSettings"] as? [String: Any])?["ListenAddress"] as? String == "127.0.0.1:20001")
        #expect(
            (doc["FileSettings"] as? [String: Any])?["Directory"] as? String == "/tmp/a \"quoted\" fleet/hosts/prod03/opt/mattermost/data/")
    }

    @Test("an inventory overlay given last beats the demo inventory: release_dir points where the test says")
    func overlayBeatsTheDemoInventory() throws {
        let dir = NSTemporaryDirectory() + "overlay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hosts = [
            FleetHost(
                name: "staging01", group: "staging", sshPort: 20000, appPort: 20001, root: dir + "/hosts/staging01",
                app: "mattermost", layout: .mattermost)
        ]
        try FleetLayout.inventory(hosts, user: "u", clientKey: dir + "/key", knownHosts: dir + "/kh")
            .write(toFile: dir + "/inventory.yml", atomically: true, encoding: .utf8)
        let overlay = FleetLayout.overlayInventory(["release_dir": "/abs/releases", "db_name": "demo"])
        #expect(
            overlay == """
                # Written by the local test fleet: variables for every host, layered last with -i.
                all:
                  vars:
                    db_name: "demo"
                    release_dir: "/abs/releases"

                """)
        try overlay.write(toFile: dir + "/overlay.yml", atomically: true, encoding: .utf8)
        let demo = Self.root + "/inventories/demo/mattermost.yml"
        let without = try InventoryLoader.load([dir + "/inventory.yml", demo])
        #expect(without.hosts.first?.vars["release_dir"] == .string("../.fleet/releases"))
        let with = try InventoryLoader.load([dir + "/inventory.yml", demo, dir + "/overlay.yml"])
        #expect(with.hosts.first?.vars["release_dir"] == .string("/abs/releases"))
        #expect(with.hosts.first?.vars["db_engine"] == .string("file"), "the demo inventory's other values stay")
    }

    @Test("the layouts' folders: Flow's checkout in home/flow/live with three units, Mattermost's and plain's in opt/APP")
    func installFolders() {
        let flow = FleetHost(name: "h", group: "g", sshPort: 1, appPort: 2, root: "/r", app: "flow", layout: .flow)
        #expect(flow.installDir == "/r/home/flow/live")
        #expect(flow.units == ["flow-web", "flow-sidekiq", "flow-streaming"])
        let mm = FleetHost(name: "h", group: "g", sshPort: 1, appPort: 2, root: "/r", app: "mattermost", layout: .mattermost)
        #expect(mm.installDir == "/r/opt/mattermost" && mm.units == ["mattermost"])
        #expect(mm.appLogFile == "/r/opt/mattermost/logs/mattermost.log")
        #expect(mm.serviceLogFile == "/r/log/services.log" && mm.flowLogFile == "/r/log/flow.log")
        #expect(FleetLayout.unitFile(install: "/r/i", port: nil) == "install=/r/i\n")
        #expect(FleetLayout.unitFile(install: "/r/i", port: 8, log: "/r/l") == "install=/r/i\nport=8\nlog=/r/l\n")
    }

    @Test("a fleet.json written before layouts reads as plain")
    func oldStateFile() throws {
        let json = #"{"name":"host01","group":"fleet","sshPort":1,"appPort":2,"root":"/r","app":"app"}"#
        let host = try JSONDecoder().decode(FleetHost.self, from: Data(json.utf8))
        #expect(host.layout == .plain && host.installDir == "/r/opt/app")
        let again = try JSONDecoder().decode(
            FleetHost.self,
            from: try JSONEncoder().encode(
                FleetHost(
                    name: "h", group: "g", sshPort: 1, appPort: 2, root: "/r", app: "flow", layout: .flow)))
        #expect(again.layout == .flow)
    }

    @Test("a layout's app is its playbook's: a flow fleet of another app is refused before anything starts")
    func layoutNeedsItsApp() async throws {
        var spec = FleetSpec(count: 1, app: "other")
        spec.layout = .flow
        let dir = NSTemporaryDirectory() + "layout-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = #expect(throws: (any Error).self) { try TestFleet.up(spec, in: dir, fakeApp: "/nonexistent") }
        #expect(error.map { "\($0)" } == #"the flow layout's app is "flow", not "other" (its playbook's units and folders)"#)
        #expect(FleetSpec(groups: [.init("prod", 2)], layout: .mattermost).app == "mattermost")
        #expect(FleetSpec(groups: [.init("prod", 2)], layout: .flow).versions == ["v3.0.0"])
    }

    @Test("services.log: one whole line per start, stop, restart and reload, from concurrent sessions too; queries are not logged")
    func serviceLog() async throws {
        try await withExecutor(FleetSpec(count: 1, startApps: true)) { fleet, executor in
            let (host, h) = (fleet.inventoryHosts[0], fleet.hosts[0])
            #expect(fleet.serviceLog(of: h).isEmpty, "the fleet's own start is not logged")
            let r = try await executor.run(
                RemoteCommand(
                    "systemctl reload app && systemctl restart app && systemctl is-active app && systemctl stop app && systemctl reload app"
                ), on: host)
            #expect(r.exitStatus == 1)
            #expect(fleet.serviceLog(of: h) == ["reload app", "restart app", "stop app", "reload app failed"])
            // Four sessions at once, 25 stops each: 100 whole lines, none lost or torn.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let r = try await executor.run(RemoteCommand("for i in $(seq 25); do systemctl stop app; done"), on: host)
                        #expect(r.succeeded)
                    }
                }
                try await group.waitForAll()
            }
            #expect(fleet.serviceLog(of: h).dropFirst(4) == Array(repeating: "stop app", count: 100)[...])
        }
    }

    @Test("fail-health and fail-start holding a version apply only while that version runs")
    func controlsAtAVersion() async throws {
        try await withExecutor(FleetSpec(count: 1, versions: ["1.0.0"], startApps: true)) { fleet, executor in
            let (host, h) = (fleet.inventoryHosts[0], fleet.hosts[0])
            func health() async throws -> String {
                let tunnel = try await executor.openTunnel(to: "127.0.0.1", port: h.appPort, on: host)
                try await tunnel.write(Array("GET /health HTTP/1.0\r\n\r\n".utf8))
                var bytes: [UInt8] = []
                while let chunk = try await tunnel.read() { bytes += chunk }
                await tunnel.close()
                return String(decoding: bytes, as: UTF8.self)
            }
            try fleet.setControl("fail-health", on: h, onlyAt: "1.1.0")
            try fleet.setControl("fail-start", on: h, onlyAt: "v1.2.0")
            #expect(try await health().hasPrefix("HTTP/1.1 200 OK"), "1.0.0 runs: healthy")
            #expect(
                try await executor.run(RemoteCommand("echo 1.1.0 > \(h.installDir)/VERSION && systemctl restart app"), on: host).succeeded)
            let sick = try await health()
            #expect(sick.hasPrefix("HTTP/1.1 503") && sick.contains(#""version":"1.1.0""#), "\(sick)")
            // 1.2.0 refuses to start (the leading v of the control file is ignored).
            let start = try await executor.run(RemoteCommand("echo 1.2.0 > \(h.installDir)/VERSION && systemctl restart app"), on: host)
            #expect(start.exitStatus == 1)
            #expect(start.stderr.text.contains("start refused (control/fail-start names v1.2.0)"), "\(start.stderr.text)")
            #expect(fleet.serviceLog(of: h) == ["restart app", "restart app failed"])
            #expect(fleet.runningPid(of: "app", on: h) == nil)
        }
    }
}
