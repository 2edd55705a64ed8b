import FleetCore
import FleetLocal
import FleetSSH
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// The ways a real upgrade ends "succeeded" while it is not, or two upgrades touch one
/// server: each reproduced with the built fleetup on real sshd hosts of the local fleet
/// (docs/runs.md: "Resume by steps", "Host locks", "A full disk").
@Suite("safety: resume by steps, one upgrader per host, a full disk")
struct SafetyScenarioTests {
    /// Waits until `host` holds in the scenario's hold step, by its pid file and the journal.
    static func held(_ s: RunScenario, _ host: FleetHost) async throws {
        let ok = try await eventually {
            guard s.holdingPid(host) != nil else { return false }
            return try s.entries().has { $0.stepStarted?.host == host.name && $0.stepStarted?.step.name == "hold (test)" }
        }
        try #require(ok, "\(host.name) never held")
    }

    @Test("kill -9 after `git checkout` (the version reads the target), before db:migrate: resume runs the migration, then the rest")
    func killedBetweenCheckoutAndMigration() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 1)], layout: .flow, versions: ["v3.1.1"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try RunScenario.flow(
                fleet,
                edits: [.hold(after: "    run: git checkout --quiet {{ to }}\n    become_user: \"{{ app_user }}\"\n", "after the checkout")]
            )
            let staging01 = fleet.hosts[0]
            try s.hold(staging01)
            let p = try s.start([])
            try await Self.held(s, staging01)
            kill(p.pid, SIGKILL)
            #expect(try await TestFleet.waitForExit(p).signal == SIGKILL)
            try s.letGo(staging01)
            #expect(fleet.flowLog(of: staging01).isEmpty, "nothing migrated before the kill")
            let killed = try #require(try s.latestRun())

            // A NEW run (not a resume) would see the target and call the host current: its
            // host lock, left by the killed run, refuses it.
            let again = try await s.run([])
            #expect(again.status == 1, "\(again.stderr)")
            let refused = try #require(try s.record().host("staging01")?.result?.message)
            #expect(
                refused.hasPrefix("run \(killed.id.text) left this host mid-upgrade (")
                    && refused.contains("`fleetup resume \(killed.id.text)` goes on"),
                "\(refused)")
            #expect(fleet.flowLog(of: staging01).isEmpty)
            let cut = try s.entries(of: killed).count

            // plan names the host the killed run left mid-upgrade.
            let plan = try await s.plan()
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(
                plan.stderr.contains(
                    "fleetup: note: staging01: run \(killed.id.text) left it mid-upgrade (v3.1.1 -> v3.1.2 at step 3, after \""),
                "\(plan.stderr)")
            // lock status names the lock the killed run left, and who alone takes it over.
            let status = try await s.lockStatus()
            #expect(status.status == 1, "\(status.stderr)")
            #expect(
                status.stdout.contains("  host lock staging01: left mid-upgrade (pid ")
                    && status.stdout.contains("only `fleetup resume \(killed.id.text)` takes it over"),
                "\(status.stdout)")
            // resume --plan says what will run again, and touches nothing: no journal line, no host change.
            let preview = try await s.resume([killed.id.text, "--plan"])
            #expect(preview.status == 0, "\(preview.stderr)")
            #expect(
                (preview.stdout + preview.stderr).contains(
                    "staging01: goes on with v3.1.1 -> v3.1.2 at step 3 \"hold (test)\" (it had started: it runs again)"),
                "\(preview.stdout)\(preview.stderr)")
            #expect(try s.entries(of: killed).count == cut)
            #expect(fleet.flowLog(of: staging01).isEmpty && fleet.serviceLog(of: staging01).isEmpty)

            let r = try await s.resume([killed.id.text])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(
                r.stderr.contains("staging01: goes on with v3.1.1 -> v3.1.2 at step 3 \"hold (test)\" (it had started: it runs again)"),
                "\(r.stderr)")
            // On resume the host already reported the target: the version alone would have called it upgraded.
            let resumed = Array(try s.entries(of: killed)[cut...]).map(\.event)
            let read = resumed.first {
                if case .versionRead("staging01", _, _) = $0 { return true }; return false
            }
            guard case .versionRead(_, let version, _)? = read else { Issue.record("no version read: \(resumed)"); return }
            #expect(version == "v3.1.2")
            #expect(fleet.flowLog(of: staging01) == ["db:migrate v3.1.2", "cache clear v3.1.2"])
            #expect(fleet.serviceLog(of: staging01) == ["restart flow-sidekiq", "reload flow-web"])
            let record = try s.record(of: killed)
            #expect(record.outcome == .succeeded && record.host("staging01")?.outcome == .upgraded)
            // Done: every host lock is given back.
            let after = try await s.lockStatus()
            #expect(after.status == 0 && after.stdout.contains("  host locks: none held (2 hosts)"), "\(after.stdout)\(after.stderr)")
        }
    }

    @Test(
        "on the target and unhealthy past its point of no return: once fixed, --retry-failed checks its health again and the run goes on; no step runs twice"
    )
    func retryUnhealthyOnTarget() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let prod01 = fleet.hosts[1]
            try fleet.setControl("fail-health", on: prod01, onlyAt: "5.3.0")
            let r = try await s.run()
            #expect(r.status == 1, "\(r.stderr)")
            #expect(try s.record().host("prod01")?.outcome == .failed)
            #expect(try fleet.installedVersion(of: prod01) == "5.3.0")

            let plain = try await s.resume([])
            #expect(
                plain.status == 1
                    && plain.stderr.contains(
                        "prod01: failed: left as it is (--retry-failed: goes on with 5.2.0 -> 5.3.0 at its health check (every step ran))"),
                "\(plain.stderr)")
            try fleet.setControl("fail-health", on: prod01, false)
            // The operator also loosened the playbook's policy: the run keeps the one it started under, and says so.
            let book = try String(contentsOfFile: s.playbook, encoding: .utf8)
            try book.replacingOccurrences(of: "max_fail_percentage: 0 ", with: "max_fail_percentage: 50 ").write(
                toFile: s.playbook, atomically: true, encoding: .utf8)
            let retried = try await s.resume(["--retry-failed"])
            #expect(retried.status == 0, "\(retried.stderr)")
            #expect(
                retried.stderr.contains(
                    "fleetup: note: the playbook's rolling policy changed since the run started (now batch [1, 25%, 50%], max_fail_percentage 50, "
                ),
                "\(retried.stderr)")
            #expect(
                retried.stderr.contains("prod01: goes on with 5.2.0 -> 5.3.0 at its health check (every step ran)"), "\(retried.stderr)")
            #expect(fleet.serviceLog(of: prod01) == ["stop mattermost", "start mattermost"])
            let record = try s.record()
            #expect(record.outcome == .succeeded)
            #expect(record.host("prod01")?.outcome == .upgraded && record.host("prod02")?.outcome == .upgraded)
        }
    }

    @Test(
        "a byte-identical copy at another path is refused by the fleet's lock; a playbook over an overlapping fleet is refused per host, naming the holder"
    )
    func oneUpgraderPerHost() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            let prod01 = fleet.hosts[1]
            try s.hold(prod01)
            let first = try s.start()
            try await Self.held(s, prod01)
            let runID = try #require(try s.latestRun()).id.text

            // The same playbook, byte for byte, in another folder (another checkout).
            let elsewhere = fleet.directory + "/checkout-2"
            try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: s.playbook, toPath: elsewhere + "/mattermost.yml")
            let copy = RunScenario(
                fleet: fleet, playbook: elsewhere + "/mattermost.yml", inventories: s.inventories,
                stateRoot: fleet.directory + "/state-2")
            let refused = try await copy.run()
            #expect(refused.status == 3, "\(refused.stderr)")
            #expect(refused.stderr.contains("the fleet is locked by run \(runID) ("), "\(refused.stderr)")

            // Another playbook over part of the fleet (another key): prod01 is refused by its own lock.
            let prodOnly = try RunScenario.copy(
                "mattermost", into: fleet,
                edits: [
                    .noPause("30s"),
                    RunScenario.Edit(
                        old: "hosts: mattermost\nstages: [staging, prod]", new: "hosts: prod\nstages: [prod]", why: "prod hosts only"),
                ])
            try FileManager.default.moveItem(atPath: prodOnly, toPath: elsewhere + "/mattermost-prod.yml")
            let other = RunScenario(
                fleet: fleet, playbook: elsewhere + "/mattermost-prod.yml", inventories: s.inventories,
                stateRoot: fleet.directory + "/state-3")
            let r = try await other.run()
            #expect(r.status == 1, "\(r.stderr)")
            let record = try other.record()
            let p1 = try #require(record.host("prod01"))
            #expect(p1.outcome == .failed)
            #expect(p1.result?.message?.hasPrefix("the host is locked by run \(runID) (") == true, "\(p1.result?.message ?? "")")
            #expect(p1.result?.message?.hasSuffix("another run is upgrading it, or left it mid-upgrade; nothing ran on it") == true)
            #expect(p1.steps.isEmpty && p1.result?.versionBefore == nil)
            #expect(fleet.serviceLog(of: prod01).isEmpty, "the second run touched prod01")

            try s.letGo(prod01)
            let done = try await TestFleet.waitForExit(first)
            #expect(done.status == 0, "\(done.stderr)")
            // One upgrade on prod01: one stop, one start.
            #expect(fleet.serviceLog(of: prod01) == ["stop mattermost", "start mattermost"])
            #expect(try fleet.installedVersion(of: prod01) == "5.3.0")
        }
    }

    /// Mattermost hosts on 5.2.0 (staging01, then `prod` of them) with a hold step right
    /// after `stop`, the state folder on a small disk: `body` gets the scenario, the disk,
    /// prod01 and the run, once prod01's app is stopped and holding.
    static func stoppedMidHop(
        prod: Int, disk bytes: Int, reserve: Int,
        _ body: @escaping (TestFleet, RunScenario, SmallDisk, FleetHost, LocalProcess) async throws -> Void
    ) async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", prod)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            try await SmallDisk.with(bytes: bytes) { disk in
                var s = try await RunScenario.mattermost(
                    fleet, edits: [.hold(after: "    run: systemctl stop {{ service }}\n    become: true\n", "after stop")])
                s.stateRoot = disk.path + "/state"
                s.environment = ["FLEETUP_JOURNAL_RESERVE": "\(reserve)"]
                let prod01 = fleet.hosts[1]
                try s.hold(prod01)
                let p = try s.start()
                try await Self.held(s, prod01)
                #expect(fleet.serviceLog(of: prod01) == ["stop mattermost"])
                try await body(fleet, s, disk, prod01, p)
            }
        }
    }

    @Test(
        "the state folder's disk fills while prod01's app is stopped: the journal's reserve lets it finish its hop (started, healthy), nothing new starts; resume completes",
        .enabled(if: SmallDisk.available, "needs root to mount a small tmpfs"))
    func fullDiskDrains() async throws {
        try await Self.stoppedMidHop(prod: 3, disk: 8 << 20, reserve: 1 << 20) { fleet, s, disk, prod01, p in
            try disk.fill()
            try s.letGo(prod01)
            let r = try await TestFleet.waitForExit(p)
            #expect(r.status == 1, "\(r.stderr)")
            #expect(
                r.stderr.contains("stopped: the state folder's disk is full (no space left on device): nothing new starts"), "\(r.stderr)")
            // prod01 finished its upgrade: started again, on 5.3.0 and healthy.
            #expect(fleet.serviceLog(of: prod01) == ["stop mattermost", "start mattermost"])
            let health = try await s.get(prod01, "/api/v4/system/ping")
            #expect(health.status == 200 && health.body.contains(#""version":"5.3.0""#), "\(health)")
            // Nothing new started.
            for h in fleet.hosts[2...] { #expect(fleet.serviceLog(of: h).isEmpty, "\(h.name)") }
            let record = try s.record()
            #expect(record.outcome == .interrupted)
            #expect(record.host("prod01")?.outcome == .upgraded)
            #expect(record.host("prod02")?.state == .pending && record.host("prod03")?.state == .pending)

            disk.empty()
            let resumed = try await s.resume([])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            for h in fleet.hosts { #expect(try fleet.installedVersion(of: h) == "5.3.0", "\(h.name)") }
            #expect(try s.record().outcome == .succeeded)
        }
    }

    @Test(
        "no reserve and a full disk: the step in flight ends on its own, nothing more runs anywhere, the error names where prod01 stopped; resume goes on from there",
        .enabled(if: SmallDisk.available, "needs root to mount a small tmpfs"))
    func fullDiskWithoutReserve() async throws {
        try await Self.stoppedMidHop(prod: 2, disk: 4 << 20, reserve: 0) { fleet, s, disk, prod01, p in
            let holding = try #require(s.holdingPid(prod01))
            try disk.fill()
            try s.letGo(prod01)
            let r = try await TestFleet.waitForExit(p)
            #expect(r.status == 1, "\(r.stderr)")
            #expect(
                r.stderr.contains("the journal could not be written (")
                    && r.stderr.contains(
                        "cannot append to the journal: No space left on device (the journal holds whole lines only)): nothing new started"),
                "\(r.stderr)")
            // Where prod01 stopped is the last step the journal holds as started: the held step,
            // or, when the journal's last page still had room for a line or two after the
            // disk was full, a step after it (a page is 4 KiB; `start` is far beyond).
            let p1 = try #require(try s.record().host("prod01"))
            let last = try #require(p1.inFlightStep ?? p1.steps.last?.step)
            #expect(last.index >= 1, "\(last)")
            #expect(
                r.stderr.contains("\nfleetup:   prod01: after step \(last.index + 1) \"\(last.name)\" of 5.2.0 -> 5.3.0\n"), "\(r.stderr)")
            // The held step ended by itself (not killed), and nothing ran after the journal broke.
            #expect(!LocalProcesses.isRunning(holding))
            #expect(s.holdEnded(prod01), "the held step was killed, not let go")
            #expect(fleet.serviceLog(of: prod01) == ["stop mattermost"])
            #expect(fleet.serviceLog(of: fleet.hosts[2]).isEmpty)

            disk.empty()
            let resumed = try await s.resume([])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(
                resumed.stderr.contains("prod01: goes on with 5.2.0 -> 5.3.0 at step \(p1.position.done.count + 1) \""), "\(resumed.stderr)"
            )
            #expect(fleet.serviceLog(of: prod01) == ["stop mattermost", "start mattermost"])
            for h in fleet.hosts { #expect(try fleet.installedVersion(of: h) == "5.3.0", "\(h.name)") }
        }
    }
}

extension SafetyScenarioTests {
    @Test("run with a relative playbook path, then resume --retry-failed of a host past its point of no return: the same steps, it goes on")
    func relativePlaybookResume() async throws {
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec.onServers) { fleet in
            let releases = try await Blocking.run("relative-releases") { try fleet.buildMattermostReleases() }
            // release_dir relative to the playbook's folder, as the demo inventory gives it.
            let up = String(repeating: "../", count: (PlanCommandTests.root + "/playbooks").split(separator: "/").count)
            let overlay = try RunScenario.writeOverlay(in: fleet, vars: ["release_dir": up + releases.dropFirst()], hostVars: [:])
            let staging01 = fleet.hosts[0]
            try fleet.setControl("fail-health", on: staging01, onlyAt: "5.3.0")
            let state = fleet.directory + "/state"
            // As an operator types it, from the repository: the playbook's path is relative.
            let common = [
                "-i", fleet.inventoryPath, "-i", "inventories/demo/mattermost.yml", "-i", overlay, "--known-hosts", fleet.knownHosts,
                "--state-dir", state, "--pause", "0s",
            ]
            let first = try await PlanCommandTests.fleetup(["run", "playbooks/mattermost.yml", "--yes"] + common)
            #expect(first.status == 1, "\(first.stderr)")
            try fleet.setControl("fail-health", on: staging01, false)
            let resumed = try await PlanCommandTests.fleetup(
                ["resume", "--retry-failed", "--yes", "--known-hosts", fleet.knownHosts, "--state-dir", state, "--pause", "0s"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(!resumed.stderr.contains("the playbook changed"), "\(resumed.stderr)")
            #expect(try fleet.installedVersion(of: fleet.hosts[1]) == "5.3.0")
        }
    }
}
