import FleetCore
import FleetLocal
import FleetSSH
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup run` and `fleetup resume` as a user runs them (the built binary) against real
/// sshd hosts of the local fleet, on copies of the showcase playbooks that differ only by
/// the edits each scenario names (RunScenario.Edit: no pause, a test step, a threshold).
/// What ran is proved by what the hosts recorded (VERSION, health endpoint, services.log,
/// the app log, flow.log, processes) and by the run's journal, folded into its RunRecord.
@Suite("fleetup run: scenarios on the demo fleet")
struct RunScenarioTests {
    // MARK: a. the Mattermost rolling upgrade

    @Test("a. Mattermost, 12 hosts on 5.0/5.1/5.2 -> 5.3, sequential: every hop visited, staging before prod, batches as planned; exit 0")
    func mattermostFleet() async throws {
        let spec = FleetSpec(
            groups: [.init("staging", 3), .init("prod", 9)], layout: .mattermost,
            versions: ["5.0.0", "5.1.0", "5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let initial = RunScenario.versions(spec, fleet)
            let r = try await s.run(["--yes"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("succeeded: 12 upgraded"), "\(r.stderr)")
            let entries = try s.entries()
            let record = try RunRecord(entries: entries)
            #expect(record.outcome == .succeeded)
            #expect(record.gates["staging"] == .approved)

            for host in fleet.hosts {
                let from = try #require(initial[host.name])
                let hops = RunScenario.hops(from: from)
                let visited = [from] + hops
                #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)")
                let health = try await s.get(host, "/api/v4/system/ping")
                #expect(
                    health.status == 200 && health.body.contains(#""status":"OK""#) && health.body.contains(#""version":"5.3.0""#),
                    "\(host.name): \(health)")
                // One start per release: the fleet's own (its first version), then one per hop.
                #expect(
                    fleet.appLog(of: host).filter { $0.contains(" started") }
                        == visited.map { "info: mattermost \($0) started, listening on 127.0.0.1:\(host.appPort)" }, "\(host.name)")
                #expect(
                    fleet.serviceLog(of: host)
                        == Array(repeating: ["stop mattermost", "start mattermost"], count: hops.count).flatMap { $0 },
                    "\(host.name)")
                #expect(entries.hops(of: host.name) == zip(visited, hops).map { "\($0) -> \($1)" }, "\(host.name)")
                let h = try #require(record.host(host.name))
                #expect(h.outcome == .upgraded && h.result?.versionBefore == from && h.result?.path == visited, "\(host.name)")
            }

            // Staging before prod: every staging host finished before prod started.
            let events = entries.events
            let lastStaging = try #require(events.lastIndex { $0.hostFinished?.host.hasPrefix("staging") == true })
            let prodStage = try #require(events.firstIndex { $0.stageStarted == "prod" })
            let firstProd = try #require(events.firstIndex { $0.hostStarted?.host.hasPrefix("prod") == true })
            #expect(lastStaging < prodStage && prodStage < firstProd)

            // The batches `fleetup plan` shows, in order; each starts once the one before is done.
            let planned = try await s.plannedBatches()
            #expect(planned.map(\.hosts.count) == [1, 1, 1, 1, 2, 4, 2])
            #expect(events.compactMap(\.batchStarted) == planned)
            var done: Set<String> = []
            var previous: [String] = []
            for e in events {
                if let f = e.hostFinished { done.insert(f.host) }
                if let b = e.batchStarted {
                    #expect(previous.allSatisfy(done.contains), "\(b) started before \(previous) finished")
                    previous = b.hosts
                }
                if let h = e.hostStarted { #expect(previous.contains(h.host), "\(h.host) started outside its batch") }
            }
            try s.expectJournalAgreesWithHosts(record, initial: initial)
        }
    }

    // MARK: b. the Flow cumulative upgrade

    /// Each Flow release's own instructions as flow.log names them (playbooks/flow.yml).
    static let flowInstructions: [(release: String, actions: [String], restartsStreaming: Bool)] = [
        ("v3.0.1", ["db:migrate"], false),
        ("v3.0.2", [], false),
        ("v3.1.0", ["bundle install", "yarn install", "db:migrate", "assets:precompile"], true),
        ("v3.1.1", ["assets:precompile"], false),
        ("v3.1.2", ["db:migrate", "cache clear"], false),
    ]

    @Test(
        "b. Flow, cumulative to v3.1.2: every skipped release's instructions ran once each, in order; streaming restarted only where a release asked"
    )
    func flowFleet() async throws {
        let spec = FleetSpec(
            groups: [.init("staging", 2), .init("prod", 3)], layout: .flow,
            versions: ["v3.0.0", "v3.1.0", "v3.0.2", "v3.1.1", "v3.0.1"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try RunScenario.flow(fleet)
            let initial = RunScenario.versions(spec, fleet)
            let r = try await s.run([])
            #expect(r.status == 0, "\(r.stderr)")
            let entries = try s.entries()
            let record = try RunRecord(entries: entries)
            #expect(record.outcome == .succeeded)
            // soak 0s: staging's health was checked again before prod started.
            #expect(record.gates["staging"] == .soaked)
            let soakChecks = record.hosts.filter { $0.stage == "staging" }.map {
                $0.health.filter { $0.context.hasPrefix("soak of staging") }
            }
            #expect(soakChecks.allSatisfy { $0.count == 1 && $0[0].healthy })

            let expected: [String: [String]] = [
                "v3.0.0": ["bundle install", "yarn install", "db:migrate", "assets:precompile", "cache clear"],
                "v3.0.1": ["bundle install", "yarn install", "db:migrate", "assets:precompile", "cache clear"],
                "v3.0.2": ["bundle install", "yarn install", "db:migrate", "assets:precompile", "cache clear"],
                "v3.1.0": ["assets:precompile", "db:migrate", "cache clear"],
                "v3.1.1": ["db:migrate", "cache clear"],
            ]
            for host in fleet.hosts {
                let from = try #require(initial[host.name])
                let path = Self.flowInstructions.filter { Version($0.release)! > Version(from)! }
                let log = fleet.flowLog(of: host)
                #expect(log == expected[from]!.map { $0 + " v3.1.2" }, "\(host.name) from \(from)")
                // Each distinct instruction once, and each release's own in its order.
                #expect(Set(log).count == log.count, "\(host.name): \(log)")
                for release in path {
                    let positions = release.actions.map { a in log.firstIndex(of: a + " v3.1.2") ?? -1 }
                    #expect(!positions.contains(-1) && positions == positions.sorted(), "\(host.name): \(release.release) \(log)")
                }
                let streaming = path.contains { $0.restartsStreaming }
                #expect(
                    fleet.serviceLog(of: host) == ["restart flow-sidekiq", "reload flow-web"]
                        + (streaming ? ["restart flow-streaming"] : []),
                    "\(host.name) from \(from)")
                // One cumulative hop, on the target and healthy.
                #expect(entries.hops(of: host.name) == ["\(from) -> v3.1.2"])
                #expect(try fleet.installedVersion(of: host) == "v3.1.2")
                let health = try await s.get(host, "/health")
                #expect(health.status == 200 && health.body.contains(#""version":"v3.1.2""#), "\(host.name): \(health)")
                #expect(record.host(host.name)?.outcome == .upgraded)
            }
        }
    }

    // MARK: c. a release that breaks a host

    @Test(
        "c. 5.3.0 breaks prod03's health: its batch halts, the later batch never starts, no rollback past no_return, restore hint; exit 1")
    func healthBreaksPastNoReturn() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 6)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let initial = RunScenario.versions(spec, fleet)
            let host = { (name: String) in fleet.hosts.first { $0.name == name }! }
            try fleet.setControl("fail-health", on: host("prod03"), onlyAt: "5.3.0")
            let r = try await s.run(["--yes"])
            #expect(r.status == 1, "\(r.stderr)")
            let entries = try s.entries()
            let record = try RunRecord(entries: entries)
            #expect(record.outcome == .halted)
            #expect(record.haltReason == "1 of 3 hosts in the batch failed, more than max_fail_percentage 0%")
            // Batches [prod01] [prod02] [prod03 prod04 prod05] [prod06]: the fourth never starts.
            #expect(
                entries.events.compactMap(\.batchStarted).map(\.description)
                    == ["staging 1: staging01", "prod 1: prod01", "prod 2: prod02", "prod 3: prod03,prod04,prod05"])

            let failed = try #require(record.host("prod03"))
            #expect(failed.outcome == .failed)
            #expect(
                failed.result?.message?.hasPrefix("health check failed after 5.2.0 -> 5.3.0") == true, "\(failed.result?.message ?? "")")
            #expect(failed.health.last?.healthy == false)
            #expect(failed.health.last?.probes.first?.attempts.allSatisfy { $0.detail.hasPrefix("status 503") } == true)
            // The start step is no_return: nothing is rolled back; the record says what to restore.
            #expect(!failed.steps.contains { $0.step.phase == .rollback })
            let restore = try #require(failed.result?.restore)
            #expect(restore.contains("went past its point of no return (step \"start\")"), "\(restore)")
            #expect(restore.contains(host("prod03").onHost("/var/backups/mattermost/5.2.0/install.tar.gz")), "\(restore)")
            #expect(r.stderr.contains("!! prod03: failed") && r.stderr.contains("    restore: \(restore)"), "\(r.stderr)")
            // prod03 is left as it is: on 5.3.0, unhealthy, started once.
            #expect(try fleet.installedVersion(of: host("prod03")) == "5.3.0")
            #expect(fleet.serviceLog(of: host("prod03")) == ["stop mattermost", "start mattermost"])
            #expect(try await s.get(host("prod03"), "/api/v4/system/ping").status == 503)

            // The rest of its batch finished; the host after the halt is untouched.
            for name in ["staging01", "prod01", "prod02", "prod04", "prod05"] {
                #expect(record.host(name)?.outcome == .upgraded, "\(name)")
            }
            #expect(record.host("prod06")?.outcome == .skippedAfterHalt)
            #expect(!entries.startedHosts.contains("prod06"))
            #expect(
                fleet.serviceLog(of: host("prod06")).isEmpty
                    && fleet.appLog(of: host("prod06")).filter { $0.contains(" started") }.count == 1)
            #expect(try fleet.installedVersion(of: host("prod06")) == "5.2.0")
            try s.expectJournalAgreesWithHosts(record, initial: initial)
        }
    }

    @Test(
        "c. a corrupted release archive for staging02 fails before no_return: the rollback ran, it is back on 5.2.0 and healthy; prod never starts; exit 1"
    )
    func rollbackBeforeNoReturn() async throws {
        let spec = FleetSpec(groups: [.init("staging", 3), .init("prod", 2)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let corrupt = fleet.directory + "/releases-corrupt"
            try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
            try Data("not a gzip archive\n".utf8).write(
                to: URL(fileURLWithPath: "\(corrupt)/\(FakeReleases.mattermostArchiveName("5.3.0"))"))
            let s = try await RunScenario.mattermost(fleet, hostVars: ["staging02": ["release_dir": corrupt]])
            let initial = RunScenario.versions(spec, fleet)
            let staging02 = fleet.hosts[1]
            let r = try await s.run(["--yes"])
            #expect(r.status == 1, "\(r.stderr)")
            let entries = try s.entries()
            let record = try RunRecord(entries: entries)
            #expect(record.outcome == .halted)

            let h = try #require(record.host("staging02"))
            #expect(h.outcome == .rolledBack)
            #expect(h.result?.restore == nil)
            let upgrade = h.steps.filter { $0.step.phase == .upgrade }
            #expect(upgrade.last?.step.name == "unpack the release over the install" && upgrade.last?.succeeded == false)
            #expect(!upgrade.contains { $0.step.name == "start" }, "the point of no return was never reached")
            let rollback = h.steps.filter { $0.step.phase == .rollback }
            #expect(
                rollback.map(\.step.name) == [
                    "restore the install", "restore config.json", "give the install back to its user", "start the old release",
                ])
            #expect(rollback.allSatisfy { $0.succeeded })
            // Back on its old release, running and healthy.
            #expect(try fleet.installedVersion(of: staging02) == "5.2.0")
            #expect(fleet.serviceLog(of: staging02) == ["stop mattermost", "start mattermost"])
            #expect(fleet.appLog(of: staging02).last == "info: mattermost 5.2.0 started, listening on 127.0.0.1:\(staging02.appPort)")
            let health = try await s.get(staging02, "/api/v4/system/ping")
            #expect(health.status == 200 && health.body.contains(#""version":"5.2.0""#), "\(health)")
            // With a database host: the schema never moved (the start that migrates was not
            // reached), which is why the old release starts again.
            if let database = fleet.database, let account = staging02.database {
                #expect(try database.query("SELECT version FROM fleetup_schema", database: account.database) == "5.2.0\n")
            }

            // No later batch, no later stage.
            #expect(record.host("staging01")?.outcome == .upgraded)
            #expect(!entries.has { $0.stageStarted == "prod" })
            #expect(entries.startedHosts == ["staging01", "staging02"])
            #expect(entries.events.compactMap(\.skipped).flatMap { $0 } == ["staging03", "prod01", "prod02"])
            for name in ["staging03", "prod01", "prod02"] { #expect(record.host(name)?.outcome == .skippedAfterHalt) }
            try s.expectJournalAgreesWithHosts(record, initial: initial)
        }
    }

    // MARK: d. a host that is down before the run

    @Test("d. prod03's sshd is down before the run: unreachable counts as failed; max_fail_percentage 0 halts")
    func unreachableHalts() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 6)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let initial = RunScenario.versions(spec, fleet)
            try await s.stopSSH(fleet.hosts[3])
            let r = try await s.run(["--yes"])
            #expect(r.status == 1, "\(r.stderr)")
            let record = try s.record()
            #expect(record.outcome == .halted)
            #expect(record.host("prod03")?.outcome == .unreachable)
            #expect(record.host("prod03")?.result?.message?.contains("connection refused") == true)
            #expect(record.haltReason == "1 of 3 hosts in the batch failed, more than max_fail_percentage 0%")
            #expect(record.host("prod04")?.outcome == .upgraded && record.host("prod05")?.outcome == .upgraded)
            #expect(record.host("prod06")?.outcome == .skippedAfterHalt)
            #expect(r.stderr.contains("!! prod03: unreachable"), "\(r.stderr)")
            try s.expectJournalAgreesWithHosts(record, initial: initial)
        }
    }

    @Test("d. prod03's sshd is down before the run: with max_fail_percentage 50 the run goes on, reports it, exit 1")
    func unreachableWithinThreshold() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 6)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.maxFailPercentage(0, 50)])
            let initial = RunScenario.versions(spec, fleet)
            try await s.stopSSH(fleet.hosts[3])
            let r = try await s.run(["--yes"])
            #expect(r.status == 1, "\(r.stderr)")
            let record = try s.record()
            #expect(record.outcome == .failed)
            #expect(record.haltReason == nil)
            #expect(record.host("prod03")?.outcome == .unreachable)
            for h in record.hosts where h.host != "prod03" { #expect(h.outcome == .upgraded, "\(h.host)") }
            #expect(r.stderr.contains("run \(record.header.id) failed: 6 upgraded, 1 unreachable"), "\(r.stderr)")
            try s.expectJournalAgreesWithHosts(record, initial: initial)
        }
    }

    // MARK: e. a host lost in the middle of a step

    @Test("e. prod03's sshd is killed while its step runs: prod03 failed, the host beside it upgraded, the run halts; exit 1")
    func hostLostMidStep() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 4)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            let initial = RunScenario.versions(spec, fleet)
            let prod03 = fleet.hosts[3]
            try s.hold(prod03)
            let p = try s.start()
            let holding = try await eventually { s.holdingPid(prod03) != nil }
            try #require(holding, "prod03 never reached its held step")
            try await s.stopSSH(prod03)
            let r = try await TestFleet.waitForExit(p)
            try? s.letGo(prod03)
            #expect(r.status == 1, "\(r.stderr)")
            let record = try s.record()
            #expect(record.outcome == .halted)
            let lost = try #require(record.host("prod03"))
            #expect(lost.outcome == .failed)
            let held = try #require(lost.steps.first { $0.step.name == "hold (test)" })
            #expect(held.error?.hasPrefix("connection-lost") == true, "\(held)")
            // Batch 3 is [prod03, prod04]: prod04 was not disturbed; the earlier batches stand.
            for name in ["staging01", "prod01", "prod02", "prod04"] { #expect(record.host(name)?.outcome == .upgraded, "\(name)") }
            // prod03 lost its connection before it changed anything.
            #expect(try fleet.installedVersion(of: prod03) == "5.2.0" && fleet.serviceLog(of: prod03).isEmpty)
            try s.expectJournalAgreesWithHosts(record, initial: initial)
        }
    }

    // MARK: f. kill -9 and resume

    @Test(
        "f. kill -9 of fleetup in prod batch 2, then resume: completes; finished hosts untouched; the mid-step host goes on from its step first"
    )
    func killedAndResumed() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 8)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            let initial = RunScenario.versions(spec, fleet)
            let prod03 = fleet.hosts[3]
            try s.hold(prod03)
            let p = try s.start()
            // In prod batch 2 ([prod02, prod03]): prod02 done, prod03 mid-step, by the journal.
            let batch2 = RunScenario.Batch(stage: "prod", number: 2, hosts: ["prod02", "prod03"])
            let inBatch2 = try await eventually {
                guard s.holdingPid(prod03) != nil else { return false }
                let e = try s.entries()
                return e.has { $0.batchStarted == batch2 } && e.has { $0.hostFinished?.host == "prod02" }
                    && e.has { $0.stepStarted?.host == "prod03" && $0.stepStarted?.step.name == "hold (test)" }
            }
            try #require(inBatch2, "the run never got into prod batch 2 with prod03 held")
            kill(p.pid, SIGKILL)
            let killed = try await TestFleet.waitForExit(p)
            #expect(killed.signal == SIGKILL)
            try s.letGo(prod03)

            let run = try #require(try s.latestRun())
            let before = try s.record(of: run)
            #expect(before.outcome == nil)
            #expect(before.host("prod03")?.state == .running && before.host("prod03")?.inFlightStep?.name == "hold (test)")
            let finished = before.hosts.filter { $0.state == .finished }.map(\.host)
            #expect(finished == ["staging01", "prod01", "prod02"])
            let logsBefore = finished.map { name in fleet.hosts.first { $0.name == name }! }.map {
                (fleet.serviceLog(of: $0), fleet.appLog(of: $0))
            }
            let cut = try s.entries(of: run).count

            let r = try await s.resume([run.id.text])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("took over the stale"), "the dead run's lock is taken over: \(r.stderr)")
            let resumed = Array(try s.entries(of: run)[cut...])
            let starts = resumed.compactMap(\.event.hostStarted)
            #expect(starts.first.map { "\($0.host) \($0.recheck)" } == "prod03 true")
            #expect(!starts.contains { finished.contains($0.host) }, "a finished host was started again")
            // Taken up first: its host lock (the dead run's) taken over, its version read before any
            // step, its hop gone on with from the held step; nothing else starts before it is done.
            let p3 = resumed.map(\.event).filter { $0.host == "prod03" }
            guard case .note(_, let note)? = p3.dropFirst().first else { Issue.record("prod03: \(p3.prefix(2))"); return }
            #expect(
                note.hasPrefix("took over the stale lock on prod03 of run \(run.id.text) (")
                    && note.hasSuffix(": an earlier part of this run"), "\(note)")
            if case .versionRead(_, let v, _)? = p3.dropFirst(2).first {
                #expect(v == "5.2.0")
            } else {
                Issue.record("prod03: \(p3.prefix(3))")
            }
            if case .stepStarted(_, let step)? = p3.dropFirst(3).first {
                #expect(step.name == "hold (test)" && step.index == 0)
            } else {
                Issue.record("prod03: \(p3.prefix(4))")
            }
            #expect(
                r.stderr.contains("prod03: goes on with 5.2.0 -> 5.3.0 at step 1 \"hold (test)\" (it had started: it runs again)"),
                "\(r.stderr)")
            let p3Done = try #require(resumed.firstIndex { $0.event.hostFinished?.host == "prod03" })
            let nextStart = try #require(resumed.firstIndex { ($0.event.hostStarted?.host).map { $0 != "prod03" } ?? false })
            #expect(p3Done < nextStart)
            // The hosts finished before the kill ran nothing more.
            let logsAfter = finished.map { name in fleet.hosts.first { $0.name == name }! }.map {
                (fleet.serviceLog(of: $0), fleet.appLog(of: $0))
            }
            #expect(logsAfter.map(\.0) == logsBefore.map(\.0) && logsAfter.map(\.1) == logsBefore.map(\.1))

            let after = try s.record(of: run)
            #expect(after.outcome == .succeeded && after.resumes == 1)
            for h in after.hosts { #expect(h.outcome == .upgraded, "\(h.host)") }
            for host in fleet.hosts { #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)") }
            try s.expectJournalAgreesWithHosts(after, initial: initial)
        }
    }

    // MARK: g. two runs at once

    @Test("g. a second fleetup run on the same fleet is refused (exit 3) naming the first's run id and pid; the first completes")
    func secondRunRefused() async throws {
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            try s.hold(fleet.hosts[0])
            let first = try s.start()
            let holding = try await eventually { s.holdingPid(fleet.hosts[0]) != nil }
            try #require(holding)
            let firstRun = try #require(try s.latestRun())
            let second = try await s.run(["--yes"])
            try s.letGo(fleet.hosts[0])
            #expect(second.status == 3, "\(second.stderr)")
            #expect(second.stderr.contains("the fleet is locked by run \(firstRun.id.text) ("), "\(second.stderr)")
            #expect(second.stderr.contains(", pid \(first.pid), since "), "\(second.stderr)")
            let r = try await TestFleet.waitForExit(first)
            #expect(r.status == 0, "\(r.stderr)")
            // The refused run left no run behind (so `fleetup resume` still means the first).
            #expect(try s.store.list().map(\.id) == [firstRun.id])
            #expect(try s.record(of: firstRun).outcome == .succeeded)
        }
    }

    // MARK: h. a step past its timeout

    @Test("h. a step that hangs past its timeout: failed, timed out in the journal, its remote processes gone")
    func stepTimesOut() async throws {
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec.onServers) { fleet in
            // The marker (the shell's $0) names the host's own folder; the shell writes its pid
            // and its sleep's beside it, then waits on the sleep. The timeout leaves the shell
            // 5 s to start (2 s was once too short with a whole suite on 2 cores).
            let hang = RunScenario.Edit.firstStep(
                """
                  - name: hang (test)
                    run: sh -c 'echo $$ > "$0.pids"; sleep 300 & echo $! >> "$0.pids"; wait' {{ host_root }}/run/hang-marker
                    timeout: 5s

                """, "hang (test)")
            let s = try await RunScenario.mattermost(fleet, edits: [hang])
            let staging01 = fleet.hosts[0]
            let marker = staging01.root + "/run/hang-marker"
            let r = try await s.run(["--yes", "--no-rollback"])
            #expect(r.status == 1, "\(r.stderr)")
            // The step ran (its shell and its sleep wrote their pids) and neither runs any more.
            let pids = TestFleetLines.read(marker + ".pids").compactMap { pid_t($0) }
            #expect(pids.count == 2, "\(pids)")
            let (shell, sleep) = (pids.first ?? 0, pids.last ?? 0)
            #expect(!LocalProcesses.isRunning(shell, commandLineContaining: marker), "the step's shell \(shell) still runs")
            #expect(!LocalProcesses.isRunning(sleep, commandLineContaining: "sleep 300"), "the step's sleep \(sleep) still runs")
            #expect(LocalProcesses.running(commandLineContaining: marker).isEmpty)
            let record = try s.record()
            let h = try #require(record.host("staging01"))
            #expect(h.outcome == .failed)
            let step = try #require(h.steps.first)
            #expect(step.step.name == "hang (test)" && step.timedOut && !step.succeeded)
            #expect(h.result?.message == "step \"hang (test)\" of 5.2.0 -> 5.3.0 timed out (--no-rollback)")
            #expect(r.stderr.contains("staging01: step \"hang (test)\" timed out"), "\(r.stderr)")
            #expect(record.host("prod01")?.outcome == .skippedAfterHalt)
            #expect(try fleet.installedVersion(of: staging01) == "5.2.0" && fleet.serviceLog(of: staging01).isEmpty)
        }
    }

    // MARK: i. Ctrl-C

    @Test("i. SIGINT during a batch: the host in flight finishes, nothing new starts, exit 1 interrupted; resume completes it")
    func interruptDrains() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 4)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            let initial = RunScenario.versions(spec, fleet)
            let prod02 = fleet.hosts[2]
            try s.hold(prod02)
            let p = try s.start()
            try #require(try await eventually { s.holdingPid(prod02) != nil })
            kill(p.pid, SIGINT)
            let draining = try await eventually { try s.entries().has { $0 == .draining } }
            #expect(draining)
            try s.letGo(prod02)
            let r = try await TestFleet.waitForExit(p)
            #expect(r.status == 1, "\(r.stderr)")
            #expect(r.stderr.contains("interrupted: draining"), "\(r.stderr)")
            let entries = try s.entries()
            let record = try RunRecord(entries: entries)
            #expect(record.outcome == .interrupted)
            #expect(record.host("prod02")?.outcome == .upgraded, "the host in flight finished its upgrade")
            #expect(entries.startedHosts == ["staging01", "prod01", "prod02"], "nothing new started")
            #expect(!entries.has { $0.batchStarted?.number == 3 })
            for name in ["prod03", "prod04"] { #expect(record.host(name)?.state == .pending, "\(name)") }
            try s.expectJournalAgreesWithHosts(record, initial: initial)
            let done = fleet.hosts.prefix(3).map { fleet.serviceLog(of: $0) }

            // `fleetup resume` with no run id: the latest run.
            let resumed = try await s.resume([])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let cut = entries.count
            let more = Array(try s.entries()[cut...])
            #expect(more.startedHosts == ["prod03", "prod04"])
            #expect(fleet.hosts.prefix(3).map { fleet.serviceLog(of: $0) } == done)
            let after = try s.record()
            #expect(after.outcome == .succeeded)
            try s.expectJournalAgreesWithHosts(after, initial: initial)
        }
    }

    @Test(
        "i. a second SIGINT ends the command in flight on the host (no orphan left), the journal marks it interrupted; resume re-checks it")
    func interruptAborts() async throws {
        let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 4)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        try await TestFleet.with(spec.onServers) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            let initial = RunScenario.versions(spec, fleet)
            let prod02 = fleet.hosts[2]
            try s.hold(prod02)
            let p = try s.start()
            try #require(try await eventually { s.holdingPid(prod02) != nil })
            let shell = try #require(s.holdingPid(prod02))
            let held = prod02.controlDir + "/hold"
            #expect(LocalProcesses.isRunning(shell, commandLineContaining: held))
            kill(p.pid, SIGINT)
            try #require(try await eventually { try s.entries().has { $0 == .draining } })
            kill(p.pid, SIGINT)
            let r = try await TestFleet.waitForExit(p)
            // Checked while control/hold still exists: a command left running would still hold.
            #expect(!LocalProcesses.isRunning(shell, commandLineContaining: held), "the held step's shell \(shell) still runs on prod02")
            #expect(LocalProcesses.running(commandLineContaining: held).isEmpty)
            try s.letGo(prod02)
            #expect(r.status == 1, "\(r.stderr)")
            let entries = try s.entries()
            let record = try RunRecord(entries: entries)
            #expect(record.outcome == .interrupted)
            #expect(entries.has { $0 == .aborting })
            let h = try #require(record.host("prod02"))
            #expect(h.outcome == .interrupted)
            #expect(h.steps.last?.step.name == "hold (test)" && h.steps.last?.error == "interrupted")
            #expect(entries.startedHosts == ["staging01", "prod01", "prod02"])
            #expect(fleet.serviceLog(of: prod02).isEmpty)

            let resumed = try await s.resume([record.header.id])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let more = Array(try s.entries()[entries.count...])
            #expect(more.compactMap(\.event.hostStarted).first.map { "\($0.host) \($0.recheck)" } == "prod02 true")
            let after = try s.record()
            #expect(after.outcome == .succeeded)
            for h in after.hosts { #expect(h.outcome == .upgraded, "\(h.host)") }
            try s.expectJournalAgreesWithHosts(after, initial: initial)
        }
    }
}
