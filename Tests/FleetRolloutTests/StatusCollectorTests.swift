import FleetCore
import FleetRollout
import FleetTestSupport
import Testing

/// `fleetup status`'s collection through a scripted fleet and a manual clock: what each host
/// answers becomes its reachability, version and health, `forks` at a time.
@Suite("status: the collector through a scripted executor and a manual clock")
struct StatusCollectorTests {
    /// The Mattermost-like playbook's hosts: versions by host, a port per host.
    static func stages(_ names: [(String, String)]) -> [StageHosts] {
        let hosts = names.enumerated().map { i, n in
            Host(name: n.1, vars: ["app_port": .int(8000 + i), "db_password": .string("hunter2")], groups: [n.0])
        }
        return ["staging", "prod"].map { stage in StageHosts(name: stage, hosts: hosts.filter { $0.groups == [stage] }) }
    }

    static let fleet = stages([("staging", "s1"), ("prod", "p1"), ("prod", "p2"), ("prod", "p3")])
    static let versions = ["s1": "5.3.0", "p1": "5.2.0", "p3": "5.3.0"]

    /// p2 refuses connections; p3's app answers 503; the others are healthy.
    static func executor(versions: [String: String] = versions) -> ScriptedExecutor {
        ScriptedExecutor(
            connects: { $0 == "p2" ? .unreachable : nil },
            tunnels: { host, _, port in
                host == "p3" ? .http(503, "{\"status\":\"DOWN\"}") : .http(200, "{\"status\":\"OK\",\"port\":\(port)}")
            }
        ) { host, command in
            guard command.display.contains("mattermost version") else { return .result(CommandResult(exitStatus: 1)) }
            guard let v = versions[host] else {
                return .result(CommandResult(exitStatus: 127, stderr: CapturedOutput("sh: mattermost: not found (db hunter2)")))
            }
            return .result(CommandResult(exitStatus: 0, stdout: CapturedOutput("Version: \(v)\nBuild Number: 1\n")))
        }
    }

    @Test("reachable, version, health per host; the unreachable host is not probed; probes go to the host's own port")
    func collect() async throws {
        let book = Playbooks.mattermost
        let checks = try StatusPlanner.checks(book, stages: Self.fleet, target: Version("5.3.0")!)
        #expect(checks.map(\.stage) == ["staging", "prod", "prod", "prod"])
        #expect(checks[0].versionCommand?.display == "/opt/mattermost/bin/mattermost version")
        let executor = Self.executor()
        let clock = ManualClock()
        let collector = StatusCollector(executor: executor, clock: clock, forks: 4)
        let hosts = try await drive(clock, while: Task { await collector.collect(checks) })
        #expect(hosts.map(\.name) == ["s1", "p1", "p2", "p3"])
        let by = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, $0) })

        #expect(by["s1"]?.reachable == true && by["s1"]?.version == "5.3.0" && by["s1"]?.healthy == true)
        #expect(by["p1"]?.version == "5.2.0" && by["p1"]?.healthy == true)
        #expect(by["p1"]?.healthDetail == "healthy: http://127.0.0.1:8001/api/v4/system/ping passed")

        let p2 = try #require(by["p2"])
        #expect(!p2.reachable && p2.error == "unreachable: scripted: unreachable")
        #expect(p2.version == nil && p2.versionProblem == "not read: unreachable" && p2.healthy == nil)
        #expect(p2.healthDetail == "not checked: unreachable")
        #expect(!executor.calls.contains { $0.host == "p2" && $0.command != "connect" }, "nothing runs on an unreachable host")

        // failure_threshold 3, period 2s: three failed attempts, 2 s apart on the manual clock.
        let p3 = try #require(by["p3"])
        #expect(p3.reachable && p3.version == "5.3.0" && p3.healthy == false)
        let probe = try #require(p3.health?.probes.first)
        #expect(probe.attempts.map(\.atMs) == [0, 2000, 4000])
        #expect(probe.verdict == "3 consecutive failures")
        #expect(p3.healthDetail.hasPrefix("unhealthy: http://127.0.0.1:8003/api/v4/system/ping: 3 consecutive failures (last: status 503"))
        #expect(executor.calls.filter { $0.command.hasPrefix("tunnel ") }.map(\.command).contains("tunnel 127.0.0.1:8003"))
    }

    @Test("a version command that fails says why, with the host's secrets redacted")
    func versionFailure() async throws {
        let checks = try StatusPlanner.checks(Playbooks.mattermost, stages: Self.stages([("prod", "p9")]), target: Version("5.3.0")!)
        let clock = ManualClock()
        let hosts = try await drive(
            clock,
            while: Task {
                await StatusCollector(executor: Self.executor(), clock: clock, forks: 1).collect(checks)
            })
        // db_password is not secret in this playbook: the Redactor keeps only secrets out.
        #expect(hosts.first?.versionProblem == "version command exit 127: sh: mattermost: not found (db hunter2)")

        var book = Playbooks.mattermost
        book.secret = ["db_password"]
        let secret = try StatusPlanner.checks(book, stages: Self.stages([("prod", "p9")]), target: Version("5.3.0")!)
        let redacted = try await drive(
            clock,
            while: Task {
                await StatusCollector(executor: Self.executor(), clock: clock, forks: 1).collect(secret)
            })
        #expect(redacted.first?.versionProblem == "version command exit 127: sh: mattermost: not found (db [REDACTED])")
    }

    @Test("at most --forks hosts in flight")
    func forks() async throws {
        let hosts = (1...5).map { Host(name: "h\($0)", groups: ["fleet"]) }
        let inventory = Inventory(hosts: hosts, groups: ["fleet": InventoryGroup(name: "fleet", hosts: hosts.map(\.name))])
        let checks = try StatusPlanner.checks(hosts, inventory: inventory, versionCommand: try Template(parsing: "app --version"))
        let executor = ScriptedExecutor { _, _ in
            .held(gate: "go", then: .result(CommandResult(exitStatus: 0, stdout: CapturedOutput("1.0.0\n"))))
        }
        let task = Task { await StatusCollector(executor: executor, clock: ManualClock(), forks: 2).collect(checks) }
        await executor.waitForArrivals(at: "go", count: 2)
        #expect(executor.calls.count == 2, "only two hosts started: \(executor.calls)")
        executor.release("go")
        let result = await task.value
        #expect(result.allSatisfy { $0.version == "1.0.0" })
        #expect(executor.maxInFlight == 2)
        #expect(executor.calls.count == 5)
    }

    @Test("no playbook: the first group the inventory lists the host in; --version-cmd with the host's variables; no probes")
    func withoutPlaybook() async throws {
        let hosts = [
            Host(name: "a", vars: ["dir": .string("/srv/a")], groups: ["db", "web"]),
            Host(name: "b", vars: ["dir": .string("/srv/b")], groups: ["web"]), Host(name: "c"),
        ]
        let inventory = Inventory(
            hosts: hosts,
            groups: [
                "all": InventoryGroup(name: "all", children: ["web", "db"]),
                "web": InventoryGroup(name: "web", hosts: ["a", "b"]), "db": InventoryGroup(name: "db", hosts: ["a"]),
                "ungrouped": InventoryGroup(name: "ungrouped", hosts: ["c"]),
            ], groupOrder: ["all", "ungrouped", "web", "db"])
        let none = try StatusPlanner.checks(hosts, inventory: inventory, versionCommand: nil)
        #expect(none.map(\.stage) == ["web", "web", "ungrouped"])
        #expect(StatusPlanner.stages(of: none) == ["web", "ungrouped"])
        let command = try Template(parsing: "{{ dir }}/bin/app -v")
        let two = try StatusPlanner.checks(Array(hosts.prefix(2)), inventory: inventory, versionCommand: command)
        #expect(two.map { $0.versionCommand?.script } == ["/srv/a/bin/app -v", "/srv/b/bin/app -v"])
        // c has no `dir`: an unknown variable is bad input, before any connection.
        let error = #expect(throws: StatusPlanError.self) {
            _ = try StatusPlanner.checks(hosts, inventory: inventory, versionCommand: command)
        }
        #expect(
            error?.problems.count == 1 && error?.problems.first?.hasPrefix("host c: --version-cmd: ") == true,
            "\(String(describing: error))")
        let executor = ScriptedExecutor()
        let result = await StatusCollector(executor: executor, clock: ManualClock(), forks: 3).collect(none)
        #expect(result.allSatisfy { $0.reachable && $0.version == nil && $0.healthy == nil })
        #expect(result.first?.versionProblem == "no version command (give a playbook or --version-cmd)")
        #expect(result.first?.healthDetail == "no playbook: no health probes")
        #expect(executor.calls.isEmpty, "connecting is all that was done")
    }
}
