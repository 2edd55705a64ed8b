import FleetConfig
import FleetCore
import Foundation
import Testing

import struct FleetCore.Host

/// Every playbook in playbooks/, the demo inventories in inventories/demo/ and the playbook
/// example of docs/playbooks.md load and pass the per-host check, so none of them can rot.
@Suite("the showcase playbooks and the docs' example")
struct PlaybookExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ p: String) -> String { root.appendingPathComponent(p).path }

    static func load(_ playbook: String) throws -> Playbook {
        var warnings: [ConfigWarning] = []
        let book = try PlaybookLoader.load(path(playbook), warnings: &warnings)
        #expect(warnings.isEmpty, "\(warnings)")
        return book
    }

    /// Stages and every template of every host: what `check` does before planning.
    static func check(_ book: Playbook, _ inventory: Inventory) throws -> [(name: String, hosts: [Host])] {
        let stages = try PlaybookCheck.stages(book, inventory: inventory, limit: nil)
        let problems = PlaybookCheck.templates(book, hosts: stages.flatMap(\.hosts), target: book.defaultTarget!)
        #expect(problems.isEmpty, "\(problems)")
        return stages
    }

    @Test("every playbook in playbooks/ is a showcase with its inventory")
    func allPlaybooks() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.path("playbooks")).filter { $0.hasSuffix(".yml") }.sorted()
        #expect(files == ["flow.yml", "mattermost.yml"])
        for file in files {
            let book = try Self.load("playbooks/\(file)")
            let app = String(file.dropLast(4))
            let stages = try Self.check(book, try InventoryLoader.load([Self.path("inventories/\(app)")]))
            #expect(stages.map(\.name) == ["staging", "prod"])
        }
    }

    @Test("mattermost: one release at a time, stop, back up, unpack, restore config.json, start (the point of no return)")
    func mattermost() throws {
        let book = try Self.load("playbooks/mattermost.yml")
        #expect(book.path == .sequential)
        #expect(book.releases.map(\.version.text) == ["5.0.0", "5.1.0", "5.2.0", "5.3.0"])
        #expect(book.version.target?.text == "5.3.0")
        let steps = book.steps.compactMap {
            if case .step(let s) = $0 { return s }; return nil
        }
        #expect(steps.first?.name == "stop")
        #expect(steps.last?.name == "start" && steps.last?.noReturn == true)
        #expect(steps.filter(\.noReturn).count == 1)
        #expect(steps.map(\.name).contains("put config.json back"))
        #expect(book.secret == ["db_password", "announce_webhook"])
        // The announcements of Mattermost's upgrade guide: before each stage, then how it ended.
        #expect(book.notify.map(\.name) == ["announcements"] && book.notify.first?.format == .mattermost)
        #expect(book.notify.first?.on == [.beforeStage, .onHalt, .afterRun])
        #expect(book.rolling.batch == [.count(1), .percent(25), .percent(50)])
        guard case .http(let url)? = book.health.first?.kind else { Issue.record("expected an http probe"); return }
        #expect(url.source == "{{ health_url }}")
        #expect(book.vars["health_url"] == .string("http://127.0.0.1:{{ app_port }}/api/v4/system/ping"))
    }

    @Test("flow: cumulative, release instructions, streaming restarted only on a release's word")
    func flow() throws {
        let book = try Self.load("playbooks/flow.yml")
        #expect(book.path == .cumulative)
        #expect(book.flags == ["restart_streaming"])
        #expect(book.releases.filter { $0.flags["restart_streaming"] == true }.map(\.version.text) == ["v3.1.0"])
        #expect(book.releases.map(\.version.text) == ["v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.1.1", "v3.1.2"])
        let steps = book.steps.compactMap {
            if case .step(let s) = $0 { return s }; return nil
        }
        #expect(steps.map(\.name) == ["fetch tags", "check out the release", "restart sidekiq", "reload web", "restart streaming"])
        #expect(steps.last?.when.map(\.name) == ["restart_streaming"])
        // The anchors make the repeated instructions the very same step.
        let migrates = book.releases.flatMap(\.steps).filter { $0.name == "migrate the database" }
        #expect(migrates.count == 3 && Set(migrates.map(\.action)).count == 1 && migrates.allSatisfy(\.noReturn))
    }

    /// A fleet inventory as the local test fleet writes it for loopback hosts
    /// (FleetLayout.inventory): each host's folders, no sudo, the app's files the user's own.
    static func fleetInventory(app: String, in dir: String) throws -> String {
        var text = "all:\n  vars:\n    ansible_user: \"me\"\n    ansible_become: false\n    app_user: \"me\"\n"
        if app == "mattermost" {
            text += "    db_engine: file\n    upload_path: \"{{ backup_path }}/mattermost-{{ to }}.tar.gz\"\n"
        }
        text += "  children:\n"
        for (group, names) in [("staging", ["staging01", "staging02"]), ("prod", ["prod01", "prod02", "prod03"])] {
            text += "    \(group):\n      hosts:\n"
            for (i, n) in names.enumerated() {
                let root = "\(dir)/hosts/\(n)"
                let install = app == "flow" ? "\(root)/home/flow/live" : "\(root)/opt/\(app)"
                text += "        \(n):\n          ansible_host: 127.0.0.1\n          ansible_port: \(20000 + i)\n"
                text += "          app_port: \(21000 + i)\n          host_root: \"\(root)\"\n          install_dir: \"\(install)\"\n"
                if app == "mattermost" {
                    text +=
                        "          backup_dir: \"\(root)/var/backups/mattermost\"\n          db_file: \"\(root)/var/lib/mattermost/mattermost.db\"\n"
                }
            }
        }
        let path = dir + "/inventory.yml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(
        "on the demo fleet's inventory plus inventories/demo/, the playbooks check clean and stay inside each host's folder",
        arguments: ["mattermost", "flow"])
    func demo(app: String) throws {
        let dir = NSTemporaryDirectory() + "demo-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var warnings: [ConfigWarning] = []
        let inv = try InventoryLoader.load(
            [try Self.fleetInventory(app: app, in: dir), Self.path("inventories/demo/\(app).yml")],
            warnings: &warnings)
        #expect(warnings.isEmpty, "\(warnings)")
        let book = try Self.load("playbooks/\(app).yml")
        let stages = try Self.check(book, inv)
        #expect(stages.map { $0.hosts.map(\.name) } == [["staging01", "staging02"], ["prod01", "prod02", "prod03"]])
        let host = stages[1].hosts[0]
        #expect(host.vars["ansible_become"] == .bool(false))
        // Every path a step names is inside the host's folder (or the playbook's releases).
        let scope = TemplateScope.host(
            host, defaults: book.vars,
            facts: [
                "target": book.defaultTarget!.text, "from": book.releases[0].version.text,
                "to": book.defaultTarget!.text, "release": book.defaultTarget!.text,
            ])
        for name in ["install_dir"] + (app == "mattermost" ? ["backup_path", "db_file", "file_store", "upload_path"] : []) {
            let value = try #require(try scope.text(of: name)).text
            #expect(value.hasPrefix("\(dir)/hosts/prod01/"), "\(name) = \(value)")
        }
    }

    @Test("the playbook example of docs/playbooks.md loads and checks against a small inventory")
    func docsExample() throws {
        let page = try String(contentsOfFile: Self.path("docs/playbooks.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]? = nil
        for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```yaml" {
                current = []
            } else if line.hasPrefix("```"), let c = current {
                blocks.append(c.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        let playbooks = blocks.filter { $0.contains("\nhosts:") || $0.hasPrefix("hosts:") || $0.contains("\nsteps:") }
        #expect(playbooks.count == 1)
        let book = try PlaybookLoader.parse(playbooks[0], file: "docs/playbooks.md")
        #expect(book.steps.count == 7)  // six steps and release_steps
        #expect(book.releases.map(\.waypoint) == [false, true, false])
        #expect(book.health.count == 3 && book.rollback.count == 2)
        let dir = NSTemporaryDirectory() + "docs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[staging]\nchat1\n[prod]\nchat[2:4]\n[chat:children]\nstaging\nprod\n".write(
            toFile: dir + "/hosts.ini", atomically: true, encoding: .utf8)
        _ = try Self.check(book, try InventoryLoader.load([dir + "/hosts.ini"]))
    }
}
