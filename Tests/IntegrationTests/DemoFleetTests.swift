import FleetCore
import FleetLocal
import FleetRollout
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// The showcase playbooks, unchanged, carried out on the demo fleet's layouts: each host's
/// planned steps run one by one with the real executor (no coordinator), then what the
/// hosts recorded proves what ran, how often and in which order.
@Suite("real hops of the showcase playbooks on the demo fleet")
struct DemoFleetTests {
    @Test("Mattermost 5.0.0 -> 5.1.0 as planned: new version, healthy, the host's own config.json, backups, stop then start")
    func mattermostHop() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 1)], layout: .mattermost, versions: ["5.0.0"], startApps: true)
        try await withExecutor(spec.onServers) { fleet, executor in
            // tar and gzip are waited for on a thread of their own, not the cooperative pool.
            let releases = try await Blocking.run("demo-releases") { try fleet.buildMattermostReleases() }
            let overlay = try fleet.writeInventoryOverlay(["release_dir": releases])
            let run = try await DemoRun.plan("mattermost", fleet: fleet, executor: executor, extraInventories: [overlay])
            let (staging, prod) = (fleet.hosts[0], fleet.hosts[1])
            // The release 5.1.0 breaks prod01's health; 5.0.0 is fine.
            try fleet.setControl("fail-health", on: prod, onlyAt: "5.1.0")
            let config = try String(contentsOfFile: staging.installDir + "/config/config.json", encoding: .utf8)

            for host in fleet.hosts {
                let before = try await run.health(of: host)
                #expect(before.passes && before.body.contains(#""version":"5.0.0""#), "\(host.name): \(before)")
                let plan = try run.hostPlan(host)
                #expect(plan.version == "5.0.0" && plan.versionSource == .detected)
                let hop = try #require(plan.hops.first)
                #expect(plan.hops.map(\.to) == ["5.1.0", "5.2.0", "5.3.0"])
                #expect((hop.from, hop.to) == ("5.0.0", "5.1.0"))
                // The archive comes from the overlay's release_dir, not the demo inventory's.
                let upload = hop.steps.compactMap { step -> UploadPlan? in
                    if case .upload(let u) = step.action { return u }
                    return nil
                }
                #expect(upload.map(\.source) == ["\(releases)/mattermost-5.1.0-linux-amd64.tar.gz"])
                try await run.executeAll(hop.steps, on: host)
            }

            // staging01: on 5.1.0, healthy, its own config kept, the old install backed up.
            #expect(try fleet.installedVersion(of: staging) == "5.1.0")
            #expect(try await run.detectedVersion(of: staging) == .known("5.1.0", .detected))
            let after = try await run.health(of: staging)
            #expect(after.passes && after.status == 200 && after.body.contains(#""version":"5.1.0""#), "\(after)")
            #expect(try String(contentsOfFile: staging.installDir + "/config/config.json", encoding: .utf8) == config)
            let backup = staging.root + "/var/backups/mattermost/5.0.0"
            let saved = try FileManager.default.contentsOfDirectory(atPath: backup).sorted()
            // The database's backup: pg_dump's archive with a database host, else a copy of the file.
            let dump = staging.database == nil ? "db.file" : "db.dump"
            #expect(saved == ["config.json", "data.tar.gz", dump, "install.tar.gz"].sorted(), "the upload is removed after the unpack")
            if staging.database == nil {
                #expect(
                    FileManager.default.contents(atPath: backup + "/db.file")
                        == FileManager.default.contents(atPath: staging.root + "/var/lib/mattermost/mattermost.db"))
            }
            #expect(try String(contentsOfFile: backup + "/config.json", encoding: .utf8) == config)
            #expect(try tar(["-xzOf", backup + "/install.tar.gz", "./VERSION"]) == "5.0.0\n")
            #expect(try tar(["-tzf", backup + "/data.tar.gz"]).contains("./users/demo/profile.txt"))
            #expect(fleet.serviceLog(of: staging) == ["stop mattermost", "start mattermost"])
            #expect(fleet.appLog(of: staging).last?.contains("mattermost 5.1.0 started") == true, "\(fleet.appLog(of: staging))")

            // prod01: the same hop, and now its health fails (the version it names runs).
            #expect(try fleet.installedVersion(of: prod) == "5.1.0")
            let sick = try await run.health(of: prod)
            #expect(!sick.passes && sick.status == 503 && sick.body.contains(#""version":"5.1.0""#), "\(sick)")
            #expect(fleet.appLog(of: prod).last?.contains("health check failing (control/fail-health names 5.1.0)") == true)
            #expect(fleet.serviceLog(of: prod) == ["stop mattermost", "start mattermost"])
        }
    }

    @Test(
        "Flow v3.0.0 and v3.1.0 -> v3.1.2 as planned: each instruction once in release order; streaming restarts only when a release asks")
    func flowHops() async throws {
        let spec = FleetSpec(
            groups: [.init("staging", 1), .init("prod", 2)], layout: .flow,
            versions: ["v3.0.0", "v3.1.0", "v3.1.2"], startApps: true)
        try await withExecutor(spec.onServers) { fleet, executor in
            let run = try await DemoRun.plan("flow", fleet: fleet, executor: executor)
            let (old, recent, current) = (fleet.hosts[0], fleet.hosts[1], fleet.hosts[2])
            #expect(try run.hostPlan(current).outcome == .alreadyCurrent)
            func pids(_ host: FleetHost) -> [pid_t?] { host.units.map { fleet.runningPid(of: $0, on: host) } }
            let pidsBefore = [old, recent].map(pids)

            var planned: [String: [String]] = [:]
            for host in [old, recent] {
                let hop = try #require(try run.hostPlan(host).hops.first)
                #expect(hop.to == "v3.1.2")
                // What the releases' own instructions will log, in the planner's order.
                planned[host.name] = hop.steps.filter { $0.release != nil }.map { Self.logged($0) + " v3.1.2" }
                try await run.executeAll(hop.steps, on: host)
            }

            for host in [old, recent] {
                #expect(try await run.detectedVersion(of: host) == .known("v3.1.2", .detected), "\(host.name)")
                #expect(fleet.flowLog(of: host) == planned[host.name], "\(host.name)")
                let health = try await run.health(of: host)
                #expect(health.passes && health.body.contains(#""version":"v3.1.2""#), "\(host.name): \(health)")
            }
            // Every distinct instruction of v3.0.1 … v3.1.2 once, in release order.
            #expect(
                fleet.flowLog(of: old) == [
                    "bundle install v3.1.2", "yarn install v3.1.2", "db:migrate v3.1.2",
                    "assets:precompile v3.1.2", "cache clear v3.1.2",
                ])
            #expect(fleet.flowLog(of: recent) == ["assets:precompile v3.1.2", "db:migrate v3.1.2", "cache clear v3.1.2"])
            // v3.1.0 sets restart_streaming: only the host coming from before it restarts streaming.
            #expect(fleet.serviceLog(of: old) == ["restart flow-sidekiq", "reload flow-web", "restart flow-streaming"])
            #expect(fleet.serviceLog(of: recent) == ["restart flow-sidekiq", "reload flow-web"])
            // Real restarts (new processes), a reload in place.
            let (web, sidekiq, streaming) = (0, 1, 2)
            let oldAfter = pids(old), recentAfter = pids(recent)
            #expect(oldAfter.allSatisfy { $0 != nil } && recentAfter.allSatisfy { $0 != nil })
            #expect(oldAfter[web] == pidsBefore[0][web] && recentAfter[web] == pidsBefore[1][web])
            #expect(oldAfter[sidekiq] != pidsBefore[0][sidekiq] && recentAfter[sidekiq] != pidsBefore[1][sidekiq])
            #expect(oldAfter[streaming] != pidsBefore[0][streaming])
            #expect(recentAfter[streaming] == pidsBefore[1][streaming])
            // The host already on the target was left alone.
            #expect(fleet.flowLog(of: current).isEmpty && fleet.serviceLog(of: current).isEmpty)
        }
    }

    @Test("Flow: a failing db:migrate (control/fail-migrate) stops the hop there; the rollback puts the old checkout back")
    func flowMigrateFails() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 1)], layout: .flow, versions: ["v3.0.0"], startApps: true)
        try await withExecutor(spec.onServers) { fleet, executor in
            let host = fleet.hosts[0]
            let run = try await DemoRun.plan("flow", fleet: fleet, executor: executor)
            let hop = try #require(try run.hostPlan(host).hops.first)
            try fleet.setControl("fail-migrate", on: host, true)
            let failed = try #require(try await run.execute(hop.steps, on: host))
            #expect(failed.step.name == "migrate the database")
            #expect(failed.result.exitStatus == 1)
            #expect(failed.result.stderr.text.contains("control/fail-migrate"), "\(failed.result.stderr.text)")
            #expect(fleet.flowLog(of: host) == ["bundle install v3.1.2", "yarn install v3.1.2", "db:migrate v3.1.2 failed"])
            #expect(fleet.serviceLog(of: host).isEmpty, "nothing restarted")

            try await run.executeAll(hop.rollback, on: host)
            #expect(try await run.detectedVersion(of: host) == .known("v3.0.0", .detected))
            #expect(fleet.flowLog(of: host).last == "bundle install v3.0.0")
        }
    }

    /// The flow.log action a release instruction writes (`db:migrate` for `… rails db:migrate`).
    static func logged(_ step: PlannedStep) -> String {
        guard case .run(let c) = step.action else { return "upload" }
        let actions = ["bundle install", "yarn install", "db:migrate", "assets:precompile", "cache clear"]
        return actions.first { c.script.contains($0) } ?? c.script
    }

    func tar(_ args: [String]) throws -> String {
        try LocalProcess.run(try #require(LocalProcess.find("tar")), args)
    }
}
