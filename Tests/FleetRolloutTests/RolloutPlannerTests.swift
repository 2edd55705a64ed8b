import FleetCore
import FleetRollout
import FleetTestSupport
import Testing

@Suite("the whole plan, and reading versions through the executor")
struct RolloutPlannerTests {
    static func hosts(_ prefix: String, _ n: Int, port: Int = 8065) -> [Host] {
        (1...n).map { Host(name: "\(prefix)\($0)", vars: ["app_port": .int(port + $0)]) }
    }

    @Test("stages are batched on their own; each batch carries its halt threshold; hosts follow their own paths")
    func plan() throws {
        var book = Playbooks.mattermost
        book.rolling = RolloutPolicy(batch: [.count(1), .percent(50)], maxFailPercentage: 25)
        let staging = Self.hosts("stg", 2), prod = Self.hosts("prod", 5)
        let versions: [String: ObservedVersion] = [
            "stg1": .known("5.2.0", .inventory), "stg2": .known("5.3.0", .inventory),
            "prod1": .known("5.0.0", .inventory), "prod2": .known("5.1.0", .inventory), "prod3": .unknown,
            "prod4": .known("5.9.0", .inventory), "prod5": .failed("unreachable: connection refused"),
        ]
        let plan = RolloutPlanner.plan(
            book, stages: [StageHosts(name: "staging", hosts: staging), StageHosts(name: "prod", hosts: prod)],
            target: Version("5.3.0")!, versions: versions, versionSource: .inventory)
        #expect(
            plan.stages.map { $0.batches.map(\.hosts) } == [[["stg1"], ["stg2"]], [["prod1"], ["prod2", "prod3"], ["prod4", "prod5"]]])
        // 25% of 1 host: the first failure halts; of 2: 0.5, so the first failure too.
        #expect(plan.stages[1].batches.map(\.haltAt) == [1, 1, 1])
        let byHost = Dictionary(uniqueKeysWithValues: plan.hosts.map { ($0.host, $0) })
        #expect(byHost["stg1"]?.hops.count == 1)
        #expect(byHost["stg2"]?.outcome == .alreadyCurrent)
        #expect(byHost["prod1"]?.hops.map(\.to) == ["5.1.0", "5.2.0", "5.3.0"])
        #expect(byHost["prod2"]?.hops.map(\.to) == ["5.2.0", "5.3.0"])
        #expect(byHost["prod3"]?.outcome == .unknownVersion)
        #expect(byHost["prod4"]?.outcome == .error("version 5.9.0 is ahead of the target 5.3.0; fleetup does not downgrade"))
        #expect(byHost["prod5"]?.outcome == .error("unreachable: connection refused"))
        #expect(byHost["prod2"]?.batch == 2 && byHost["prod2"]?.stage == "prod")
        #expect(!plan.isClean)
        // The health probe is rendered per host: each has its own port.
        #expect(byHost["prod3"]?.health.first?.kind == .http(host: "127.0.0.1", port: 8068, path: "/api/v4/system/ping"))
    }

    @Test("past the rendering budget, the remaining hosts are not planned (a 64 KB command per step held for every host)")
    func renderBudget() throws {
        var book = Playbooks.mattermost
        book.vars["service"] = .string(String(repeating: "x", count: 64 << 10))
        let hosts = Self.hosts("web", 40)
        let versions = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, ObservedVersion.known("5.2.0", .inventory)) })
        // Each host's plan holds ~262 KB (two steps of 64 KB, as sent and as shown): a 1 MB
        // budget plans four hosts, the fourth going past it, and no more.
        let plan = RolloutPlanner.plan(
            book, stages: [StageHosts(name: "staging", hosts: hosts)], target: Version("5.3.0")!,
            versions: versions, versionSource: .inventory, renderBudget: 1 << 20)
        let planned = plan.hosts.filter {
            if case .upgrade = $0.outcome { return true }; return false
        }
        #expect(planned.count == 4)
        #expect(
            plan.hosts.last?.outcome
                == .error(
                    "not planned: the plan's commands add up to more than 1 MB over its hosts (the limit; plan fewer hosts with --limit)"))
        #expect(plan.hosts.count == 40)
    }

    @Test("current_version from the inventory, or unknown")
    func inventoryVersions() {
        let v = RolloutPlanner.inventoryVersions([Host(name: "a", vars: ["current_version": .string("5.1.0")]), Host(name: "b")])
        #expect(v == ["a": .known("5.1.0", .inventory), "b": .unknown])
    }

    @Test("a current_version that is not a version is an error for that host")
    func badInventoryVersion() {
        let plan = RolloutPlanner.hostPlan(
            Host(name: "a", vars: ["app_port": .int(1)]), stage: "all", batch: 1, playbook: Playbooks.mattermost,
            target: Version("5.3.0")!, observed: .known("five", .inventory))
        #expect(plan.outcome == .error("\"five\" is not a version (expected x.y.z)"))
    }

    @Test(
        "version output",
        arguments: [
            (0, "Version: 5.3.0\nBuild Number: 5.3.0\n", "", nil as String?, ObservedVersion.known("5.3.0", .detected)),
            (0, "v3.1.2\n", "", nil, .known("v3.1.2", .detected)),
            // a playbook pattern takes its first group.
            (0, "flow 3.1.2 (git abc)\nschema 20240101\n", "", #"flow (\S+)"#, .known("3.1.2", .detected)),
            (0, "hello\n", "", nil, .failed("version command printed no version (expected x.y.z in its output): \"hello\"")),
            (0, "", "", nil, .failed("version command printed no version (expected x.y.z in its output): (nothing)")),
            (
                128, "", "fatal: no tag exactly matches 'abc123'\n", nil,
                .failed("version command exit 128: fatal: no tag exactly matches 'abc123'")
            ),
        ] as [(Int32, String, String, String?, ObservedVersion)])
    func parse(status: Int32, stdout: String, stderr: String, pattern: String?, expected: ObservedVersion) {
        let r = CommandResult(exitStatus: status, stdout: CapturedOutput(stdout), stderr: CapturedOutput(stderr))
        #expect(VersionDetector.version(in: r, pattern: pattern) == expected)
    }

    @Test("detect: the rendered version command on every host, forks at a time, failures per host")
    func detect() async throws {
        let book = Playbooks.mattermost
        let hosts = (1...6).map { Host(name: "h\($0)", vars: ["install_dir": .string("/srv/mm \($0)")]) }
        let executor = ScriptedExecutor { host, command in
            switch host {
            case "h4": return .error(.unreachable, "connection refused")
            case "h5": return .result(CommandResult(exitStatus: 127, stderr: CapturedOutput("sh: mattermost: not found\n")))
            default:
                let n = Int(host.dropFirst())!
                return .held(gate: "go", then: .result(CommandResult(exitStatus: 0, stdout: CapturedOutput("Version: 5.\(n % 3).0\n"))))
            }
        }
        let task = Task { await VersionDetector.detect(hosts, playbook: book, target: Version("5.3.0")!, executor: executor, forks: 2) }
        await executor.waitForArrivals(at: "go", count: 2)
        executor.release("go")
        let found = await task.value
        #expect(found["h1"] == .known("5.1.0", .detected))
        #expect(found["h3"] == .known("5.0.0", .detected))
        #expect(found["h4"] == .failed("unreachable: connection refused"))
        #expect(found["h5"] == .failed("version command exit 127: sh: mattermost: not found"))
        #expect(found["h6"] == .known("5.0.0", .detected))
        #expect(executor.maxInFlight <= 2)
        // The install folder holds a space: one quoted word.
        #expect(executor.calls.first { $0.host == "h2" }?.command == "'/srv/mm 2'/bin/mattermost version")
    }
}
