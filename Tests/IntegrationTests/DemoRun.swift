import FleetConfig
import FleetCore
import FleetRollout
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// A showcase playbook planned for a demo fleet, and its hops run by hand, step by step,
/// with the real executor: what `fleetup run` will do for one host, without the coordinator.
struct DemoRun {
    let playbook: Playbook
    let plan: RolloutPlan
    /// By name, with the variables of every inventory layered (the fleet's, the demo's, extras).
    let hosts: [String: FleetCore.Host]
    let executor: SSHExecutor

    /// Loads playbooks/NAME.yml and `-i fleet -i inventories/demo/NAME.yml -i EXTRA...` as
    /// `fleetup plan` does, reads every host's version over SSH and plans to the playbook's target.
    static func plan(_ name: String, fleet: TestFleet, executor: SSHExecutor, extraInventories: [String] = []) async throws -> DemoRun {
        let root = PlanCommandTests.root
        let book = try PlaybookLoader.load("\(root)/playbooks/\(name).yml")
        let inventory = try InventoryLoader.load([fleet.inventoryPath, "\(root)/inventories/demo/\(name).yml"] + extraInventories)
        let stages = try PlaybookCheck.stages(book, inventory: inventory, limit: nil).map { StageHosts(name: $0.name, hosts: $0.hosts) }
        let hosts = stages.flatMap(\.hosts)
        let target = try #require(book.defaultTarget)
        let versions = await VersionDetector.detect(hosts, playbook: book, target: target, executor: executor, forks: 4)
        let plan = RolloutPlanner.plan(book, stages: stages, target: target, versions: versions, versionSource: .detected)
        return DemoRun(
            playbook: book, plan: plan, hosts: Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, $0) }),
            executor: executor)
    }

    func hostPlan(_ host: FleetHost) throws -> HostPlan {
        try #require(plan.hosts.first { $0.host == host.name }, "\(host.name) is not in the plan")
    }

    func inventoryHost(_ host: FleetHost) throws -> FleetCore.Host {
        try #require(hosts[host.name])
    }

    /// Runs planned steps in order, as a coordinator would (a run over SSH, an upload over
    /// SFTP); stops at the first that fails and returns its result (nil when all passed).
    @discardableResult
    func execute(_ steps: [PlannedStep], on host: FleetHost) async throws -> (step: PlannedStep, result: CommandResult)? {
        let target = try inventoryHost(host)
        for step in steps {
            switch step.action {
            case .run(var command):
                // Through the host's real sudo (NOPASSWD) on a namespaced host; a loopback
                // fleet's inventory turns become off.
                if step.become { command.become = Become(user: step.becomeUser ?? "root") }
                let r = try await executor.run(command, on: target)
                if !r.succeeded { return (step, r) }
            case .upload(let u):
                try await executor.upload(.file(path: u.source), to: u.destination, mode: u.mode, on: target)
            }
        }
        return nil
    }

    /// Runs steps that must all pass.
    func executeAll(_ steps: [PlannedStep], on host: FleetHost) async throws {
        if let failed = try await execute(steps, on: host) {
            Issue.record(
                "\(host.name): step \"\(failed.step.name)\" exit \(failed.result.exitStatus.map(String.init) ?? "?"): \(failed.result.stderr.text)"
            )
        }
    }

    /// The host's first health probe as planned, asked from the host (an HTTP GET through a
    /// tunnel): its status and body, and whether the probe's expectation holds.
    func health(of host: FleetHost) async throws -> (status: Int, body: String, passes: Bool) {
        let probe = try #require(try hostPlan(host).health.first)
        guard case .http(let h, let port, let path) = probe.kind else {
            Issue.record("expected an http probe, got \(probe.target)")
            return (0, "", false)
        }
        let tunnel = try await executor.openTunnel(to: h, port: port, on: try inventoryHost(host))
        try await tunnel.write(Array("GET \(path) HTTP/1.0\r\nHost: \(h)\r\n\r\n".utf8))
        var bytes: [UInt8] = []
        while let chunk = try await tunnel.read() { bytes += chunk }
        await tunnel.close()
        let text = String(decoding: bytes, as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        let passes = (probe.expectStatus ?? Array(200..<400)).contains(status) && (probe.bodyContains.map { body.contains($0) } ?? true)
        return (status, body, passes)
    }

    /// The host's version as the playbook's version command reads it now.
    func detectedVersion(of host: FleetHost) async throws -> ObservedVersion? {
        let target = try #require(playbook.defaultTarget)
        return await VersionDetector.detect(
            [try inventoryHost(host)], playbook: playbook, target: target,
            executor: executor, forks: 1)[host.name]
    }
}
