import FleetCore
import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// The run scenarios that depend on where runs are kept — a halt, kill -9 then resume, two
/// runs at once, a manual gate approved from elsewhere — run the same way with the state
/// folder and with a shared PostgreSQL store (issue 14), checked through what fleetup itself
/// reports (`fleetup report --format json`: the same record from either store).
@Suite(
    "run scenarios with either store",
    .enabled(if: TestPostgres.available, "needs PostgreSQL's server (Debian's postgresql)"))
struct StoreScenarioTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case folder, postgres
        var testDescription: String { rawValue }
    }

    /// Where the runs go: `--state-dir` of the fleet's, or `--store` of a PostgreSQL started
    /// for the test (its schema made).
    static func with(_ store: Store, _ spec: FleetSpec, _ body: (TestFleet, [String]) async throws -> Void) async throws {
        switch store {
        case .folder:
            try await TestFleet.with(spec.onServers) { fleet in try await body(fleet, ["--state-dir", fleet.directory + "/state"]) }
        case .postgres:
            try await SharedStore.with(password: "scenario-pw") { _, url in
                try await TestFleet.with(spec.onServers) { fleet in try await body(fleet, ["--store", url]) }
            }
        }
    }

    static func fleetup(_ args: [String]) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), args)
    }

    /// The latest run's record as `fleetup report --format json` gives it.
    static func record(_ where_: [String]) async throws -> [String: Any] {
        let r = try await fleetup(["report", "latest", "--format", "json"] + where_)
        try #require(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    static func outcomes(_ record: [String: Any]) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: ((record["hosts"] as? [[String: Any]]) ?? []).map {
                ($0["host"] as? String ?? "?", $0["outcome"] as? String ?? "none")
            })
    }

    static func kinds(_ record: [String: Any]) -> [String] {
        ((record["actions"] as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String }
    }

    static let spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 3)], layout: .mattermost, versions: ["5.2.0"], startApps: true)

    @Test("a halt: prod02's health breaks past the point of no return; the batch halts, prod03 never starts", arguments: Store.allCases)
    func halt(store: Store) async throws {
        try await Self.with(store, Self.spec) { fleet, where_ in
            let s = try await RunScenario.mattermost(fleet)
            try fleet.setControl("fail-health", on: fleet.hosts[2], onlyAt: "5.3.0")
            let r = try await Self.fleetup(
                ["run", s.playbook] + s.inventories.flatMap { ["-i", $0] } + ["--known-hosts", fleet.knownHosts, "--yes"] + where_)
            #expect(r.status == 1, "\(r.stderr)")
            let record = try await Self.record(where_)
            #expect(record["outcome"] as? String == "halted")
            #expect(
                Self.outcomes(record) == [
                    "staging01": "upgraded", "prod01": "upgraded", "prod02": "failed", "prod03": "skipped-after-halt",
                ])
            #expect(Self.kinds(record) == ["started", "gate", "halted"])
            #expect(fleet.serviceLog(of: fleet.hosts[3]).isEmpty)
        }
    }

    @Test(
        "kill -9 mid-step, then resume: it completes; the hosts finished before the kill are not touched again", arguments: Store.allCases)
    func killAndResume(store: Store) async throws {
        try await Self.with(store, Self.spec) { fleet, where_ in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            let prod02 = fleet.hosts[2]
            try s.hold(prod02)
            let args = ["run", s.playbook] + s.inventories.flatMap { ["-i", $0] } + ["--known-hosts", fleet.knownHosts, "--yes"] + where_
            let p = try LocalProcess(try TestFleet.builtProduct("fleetup"), args)
            try #require(try await eventually { s.holdingPid(prod02) != nil }, "prod02 never held")
            kill(p.pid, SIGKILL)
            #expect(try await TestFleet.waitForExit(p).signal == SIGKILL)
            try s.letGo(prod02)
            let before = fleet.hosts.prefix(2).map { fleet.serviceLog(of: $0) }
            let r = try await Self.fleetup(["resume", "--known-hosts", fleet.knownHosts] + where_)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(fleet.hosts.prefix(2).map { fleet.serviceLog(of: $0) } == before, "a host finished before the kill ran again")
            for host in fleet.hosts { #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)") }
            let record = try await Self.record(where_)
            #expect(record["outcome"] as? String == "succeeded" && record["resumes"] as? Int == 1)
            #expect(Self.kinds(record) == ["started", "gate", "resumed"])
        }
    }

    @Test("two runs at once: the second is refused (exit 3) naming the first; the first completes", arguments: Store.allCases)
    func twoRuns(store: Store) async throws {
        try await Self.with(store, Self.spec) { fleet, where_ in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            try s.hold(fleet.hosts[0])
            let args = ["run", s.playbook] + s.inventories.flatMap { ["-i", $0] } + ["--known-hosts", fleet.knownHosts, "--yes"] + where_
            let first = try LocalProcess(try TestFleet.builtProduct("fleetup"), args)
            try #require(try await eventually { s.holdingPid(fleet.hosts[0]) != nil }, "staging01 never held")
            let second = try await Self.fleetup(args)
            try s.letGo(fleet.hosts[0])
            #expect(second.status == 3, "\(second.stderr)")
            #expect(
                second.stderr.contains("the fleet is locked by run ") && second.stderr.contains(", pid \(first.pid), since "),
                "\(second.stderr)")
            #expect(try await TestFleet.waitForExit(first).status == 0)
            let runs = try await Self.fleetup(["runs", "--json"] + where_)
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [String: Any])
            #expect((listed["runs"] as? [[String: Any]])?.count == 1, "the refused run left a run behind: \(runs.stdout)")
        }
    }

    @Test("a manual gate nobody approved: the run stops there; approved from elsewhere, resume goes on", arguments: Store.allCases)
    func gate(store: Store) async throws {
        try await Self.with(store, Self.spec) { fleet, where_ in
            let s = try await RunScenario.mattermost(fleet)
            let r = try await Self.fleetup(
                ["run", s.playbook] + s.inventories.flatMap { ["-i", $0] } + ["--known-hosts", fleet.knownHosts] + where_)
            #expect(r.status == 1, "\(r.stderr)")
            #expect(try await Self.record(where_)["outcome"] as? String == "waiting-for-approval")
            let approve = try await Self.fleetup(["approve", "--reason", "checked staging"] + where_)
            #expect(approve.status == 0, "\(approve.stderr)")
            let resumed = try await Self.fleetup(["resume", "--known-hosts", fleet.knownHosts] + where_)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let record = try await Self.record(where_)
            #expect(record["outcome"] as? String == "succeeded")
            let gates = ((record["actions"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "gate" }
            #expect(gates.map { $0["decision"] as? String } == ["not-approved", "approved"], "\(gates)")
            #expect((gates.last?["detail"] as? String)?.hasSuffix(": checked staging") == true)
            for host in fleet.hosts { #expect(try fleet.installedVersion(of: host) == "5.3.0", "\(host.name)") }
        }
    }
}
