import FleetCore
import FleetRollout
import Testing

private typealias A = RolloutMachine.Action

/// Drives a machine: records what it starts, finishes hosts on request.
private struct Driver {
    var m: RolloutMachine
    var log: [A] = []

    init(
        _ stages: [StagePlan], maxFail: Int = 0, maxFailures: Int? = nil, pause: Duration = .zero,
        gate: StageGate = .none, forks: Int = 100, work: [String: RolloutMachine.Work] = [:],
        gatesPassed: Set<String> = [], hasProbes: Bool = true
    ) {
        m = RolloutMachine(
            stages: stages, policy: FailurePolicy(maxFailPercentage: maxFail, maxFailures: maxFailures),
            pause: pause, gate: gate, forks: forks, work: work, gatesPassed: gatesPassed, hasProbes: hasProbes)
    }

    @discardableResult
    mutating func send(_ e: RolloutMachine.Event) throws -> [A] {
        let a = try m.handle(e)
        log += a
        return a
    }

    @discardableResult
    mutating func finish(_ host: String, _ o: HostOutcome = .upgraded) throws -> [A] {
        try send(.hostFinished(host: host, outcome: o))
    }

    var started: [String] {
        log.compactMap {
            if case .startHost(let h, _) = $0 { return h }; return nil
        }
    }

    var finished: RunOutcome? {
        for a in log { if case .finish(let o) = a { return o } }
        return nil
    }

    var skipped: [String] {
        log.flatMap { a -> [String] in
            if case .skip(let h, _) = a { return h }; return []
        }
    }
}

private func stage(_ name: String, _ batches: [[String]]) -> StagePlan {
    StagePlan(name: name, batches: batches, haltAt: batches.map { _ in 1 })
}

@Suite("rollout machine: stages, batches, halts, gates, drain")
struct RolloutMachineTests {
    @Test("stages in order, batches in order, each batch only after the previous one finished")
    func order() throws {
        var d = Driver([stage("staging", [["s1"]]), stage("prod", [["p1", "p2"], ["p3"]])])
        let first = try d.send(.start)
        #expect(
            first == [
                .startStage(stage: "staging"), .startBatch(stage: "staging", batch: 1, hosts: ["s1"]),
                .startHost(host: "s1", resume: false),
            ])
        let next = try d.finish("s1")
        #expect(
            next == [
                .gatePassed(stage: "staging", next: "prod", decision: .open, detail: nil),
                .startStage(stage: "prod"), .startBatch(stage: "prod", batch: 1, hosts: ["p1", "p2"]),
                .startHost(host: "p1", resume: false), .startHost(host: "p2", resume: false),
            ])
        #expect(try d.finish("p2") == [])  // p1 still in flight: batch 2 waits
        #expect(try d.finish("p1") == [.startBatch(stage: "prod", batch: 2, hosts: ["p3"]), .startHost(host: "p3", resume: false)])
        #expect(try d.finish("p3") == [.finish(.succeeded)])
        #expect(d.started == ["s1", "p1", "p2", "p3"])
    }

    @Test("--forks caps hosts in flight inside a batch; the next starts as one finishes")
    func forks() throws {
        var d = Driver([stage("all", [["a", "b", "c", "d", "e"]])], maxFail: 100, forks: 2)
        try d.send(.start)
        #expect(d.started == ["a", "b"])
        try d.finish("b")
        #expect(d.started == ["a", "b", "c"])
        #expect(d.m.inFlight == ["a", "c"])
        try d.finish("a", .failed)
        try d.finish("c")
        try d.finish("d")
        try d.finish("e")
        #expect(d.started == ["a", "b", "c", "d", "e"])
        #expect(d.finished == .failed)  // went on (100%), but a host failed
    }

    @Test(
        "default policy: the first failure halts; in-flight hosts finish; the rest of the batch and every later batch and stage are skipped"
    )
    func haltAtFirstFailure() throws {
        var d = Driver([stage("staging", [["s1", "s2", "s3", "s4"]]), stage("prod", [["p1"], ["p2"]])], forks: 2)
        try d.send(.start)
        let halt = try d.finish("s1", .failed)
        #expect(halt.first == .halt(reason: "1 of 4 hosts in the batch failed, more than max_fail_percentage 0%"))
        #expect(d.skipped == ["s3", "s4", "p1", "p2"])
        #expect(d.finished == nil)  // s2 is still in flight
        #expect(try d.finish("s2") == [.finish(.halted)])
        #expect(d.started == ["s1", "s2"])
    }

    @Test("25% of a batch of 4: one failure goes on, two halt (strictly greater)")
    func percentage() throws {
        var d = Driver([stage("prod", [["a", "b", "c", "d"], ["e"]])], maxFail: 25)
        try d.send(.start)
        try d.finish("a", .failed)
        #expect(d.m.haltReason == nil)
        try d.finish("b", .unreachable)  // unreachable counts as failed
        #expect(d.m.haltReason == "2 of 4 hosts in the batch failed, more than max_fail_percentage 25%")
        try d.finish("c")
        try d.finish("d")
        #expect(d.finished == .halted)
        #expect(d.skipped == ["e"])
    }

    @Test("failure counts are per batch; max_failures counts the whole run")
    func runLimit() throws {
        var d = Driver([stage("prod", [["a", "b"], ["c", "d"], ["e"]])], maxFail: 50, maxFailures: 1)
        try d.send(.start)
        try d.finish("a", .failed)  // 1 of 2 = 50%: not more than 50%
        try d.finish("b")
        #expect(d.m.haltReason == nil)
        try d.finish("c", .rolledBack)  // batch 2: 1 of 2, fine; run: 2 > max_failures 1
        #expect(d.m.haltReason == "2 hosts failed in the run, more than max_failures 1")
        try d.finish("d")
        #expect(d.skipped == ["e"])
        #expect(d.finished == .halted)
    }

    @Test("a batch where every host failed halts only if the threshold says so (100%: no hidden rule)")
    func noHiddenRule() throws {
        var d = Driver([stage("prod", [["a", "b"], ["c"]])], maxFail: 100)
        try d.send(.start)
        try d.finish("a", .failed)
        try d.finish("b", .failed)
        #expect(d.started == ["a", "b", "c"])
        try d.finish("c")
        #expect(d.finished == .failed)
    }

    @Test("pause between batches of a stage, not after the last one, not between stages")
    func pause() throws {
        var d = Driver([stage("s", [["a"], ["b"]]), stage("t", [["c"]])], pause: .seconds(30))
        try d.send(.start)
        #expect(try d.finish("a") == [.pause(.seconds(30))])
        #expect(d.m.phase == .pausing)
        #expect(try d.send(.pauseOver) == [.startBatch(stage: "s", batch: 2, hosts: ["b"]), .startHost(host: "b", resume: false)])
        let after = try d.finish("b")
        #expect(!after.contains(.pause(.seconds(30))))
        #expect(after.contains(.startHost(host: "c", resume: false)))
    }

    @Test("manual gate: the next stage starts only once approved; not approved ends the run waiting")
    func manualGate() throws {
        var d = Driver([stage("staging", [["s1"]]), stage("prod", [["p1"]])], gate: .manual)
        try d.send(.start)
        #expect(try d.finish("s1") == [.askApproval(stage: "staging", next: "prod")])
        var e = d
        #expect(try d.send(.gateDecided(.approved, detail: "yes")).contains(.startHost(host: "p1", resume: false)))
        let waiting = try e.send(.gateDecided(.notApproved, detail: "needs --approve staging"))
        #expect(waiting.last == .finish(.waitingForApproval))
        #expect(e.started == ["s1"])
    }

    @Test("soak: it checks the stage's hosts that ended well; one unhealthy halts before the next stage, its hosts skipped")
    func soakFailed() throws {
        var d = Driver([stage("staging", [["s1", "s2", "s3"]]), stage("prod", [["p1", "p2"]])], maxFail: 50, gate: .soak(.seconds(300)))
        try d.send(.start)
        try d.finish("s1")
        try d.finish("s2", .rolledBack)
        #expect(try d.finish("s3", .alreadyCurrent) == [.soak(stage: "staging", duration: .seconds(300), hosts: ["s1", "s3"])])
        let a = try d.send(.soakChecked(unhealthy: ["s1"], checked: 2))
        #expect(a.contains(.halt(reason: "after a soak of 5m, unhealthy in staging: s1")))
        #expect(d.skipped == ["p1", "p2"])
        #expect(d.finished == .halted)
    }

    @Test("soak: all healthy opens the next stage; without probes it checks no host and passes")
    func soakPassed() throws {
        for probes in [true, false] {
            var d = Driver([stage("staging", [["s1"]]), stage("prod", [["p1"]])], gate: .soak(.seconds(60)), hasProbes: probes)
            try d.send(.start)
            #expect(try d.finish("s1") == [.soak(stage: "staging", duration: .seconds(60), hosts: probes ? ["s1"] : [])])
            let a = try d.send(.soakChecked(unhealthy: [], checked: probes ? 1 : 0))
            let detail =
                probes
                ? "every host of staging was still healthy after a soak of 1m (1 checked)"
                : "waited 1m after staging; the playbook has no health probes to check again"
            #expect(a.first == .gatePassed(stage: "staging", next: "prod", decision: .soaked, detail: detail))
            #expect(a.contains(.startHost(host: "p1", resume: false)))
        }
    }

    @Test("drain: nothing new starts, in-flight hosts finish, the rest stays pending (not skipped)")
    func drain() throws {
        var d = Driver([stage("s", [["a", "b", "c"], ["d"]])], forks: 2)
        try d.send(.start)
        #expect(try d.send(.drain) == [])
        try d.finish("a")
        #expect(d.started == ["a", "b"])
        #expect(try d.finish("b") == [.finish(.interrupted)])
        #expect(d.skipped.isEmpty)
    }

    @Test("abort ends the commands in flight; a drain during a pause ends the run at once")
    func abortAndPause() throws {
        var d = Driver([stage("s", [["a", "b"]])])
        try d.send(.start)
        #expect(try d.send(.drain) == [])
        #expect(try d.send(.abort) == [.cancelInFlight])
        try d.finish("a", .interrupted)
        #expect(try d.finish("b", .interrupted) == [.finish(.interrupted)])

        var p = Driver([stage("s", [["a"], ["b"]])], pause: .seconds(10))
        try p.send(.start)
        try p.finish("a")
        #expect(try p.send(.drain) == [.cancelWaits, .finish(.interrupted)])
        #expect(try p.send(.drain) == [])  // a late signal: nothing left to do
    }

    @Test("resume: done hosts are not started, re-checks go first, finished batches and passed gates are skipped")
    func resume() throws {
        var d = Driver(
            [stage("staging", [["s1"]]), stage("prod", [["p1", "p2", "p3"], ["p4"]])], gate: .manual,
            work: ["s1": .none, "p1": .none, "p2": .run, "p3": .resume(.replan)], gatesPassed: ["staging"])
        let a = try d.send(.start)
        #expect(
            a == [
                .startStage(stage: "prod"), .startBatch(stage: "prod", batch: 1, hosts: ["p1", "p2", "p3"]),
                .startHost(host: "p3", resume: true), .startHost(host: "p2", resume: false),
            ])
    }

    @Test("impossible transitions are errors, not silent no-ops")
    func impossible() throws {
        var d = Driver([stage("s", [["a"]])])
        #expect(throws: MachineError.self) { try d.finish("a") }  // not started
        try d.send(.start)
        #expect(throws: MachineError.self) { try d.send(.pauseOver) }
        try d.finish("a")
        #expect(throws: MachineError.self) { try d.send(.start) }
    }
}
