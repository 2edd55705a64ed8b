import FleetCore
import FleetRollout
import FleetTestSupport
import Testing

private func hosts(_ n: Int) -> [Host] { (1...n).map { Host(name: String(format: "h%02d", $0)) } }

@Suite("fan-out: forks, order, interruption")
struct FanOutTests {
    @Test("never more than --forks hosts in flight, and every host runs once", arguments: [1, 3, 7, 50])
    func forksCap(forks: Int) async {
        let executor = ScriptedExecutor { _, _ in .held(gate: "go", then: .result(CommandResult(exitStatus: 0))) }
        let task = Task { await AdHoc.run(RemoteCommand("true"), on: hosts(20), forks: forks, executor: executor) }
        // Exactly `forks` (or all 20) reach the gate before anything is released.
        await executor.waitForArrivals(at: "go", count: min(forks, 20))
        #expect(executor.calls.count == min(forks, 20))
        executor.release("go")
        let run = await task.value
        #expect(executor.maxInFlight == min(forks, 20))
        #expect(executor.calls.count == 20)
        #expect(run.counts[.ok] == 20)
    }

    @Test("results come back in inventory order whatever order hosts finish in")
    func order() async {
        // h01 is held until every other host has finished.
        let executor = ScriptedExecutor { host, _ in
            host == "h01"
                ? .held(gate: "last", then: .result(CommandResult(exitStatus: 0)))
                : .result(CommandResult(exitStatus: 0, stdout: CapturedOutput(host)))
        }
        let task = Task { await AdHoc.run(RemoteCommand("x"), on: hosts(5), forks: 5, executor: executor) }
        await executor.waitForArrivals(at: "last", count: 1)
        executor.release("last")
        let run = await task.value
        #expect(run.results.map(\.host) == ["h01", "h02", "h03", "h04", "h05"])
    }

    @Test("outcomes are bucketed: ok, failed, unreachable, timed out")
    func buckets() async {
        let executor = ScriptedExecutor { host, _ in
            switch host {
            case "h01": return .result(CommandResult(exitStatus: 0))
            case "h02": return .result(CommandResult(exitStatus: 3))
            case "h03": return .error(.unreachable, "connection refused")
            case "h04": return .error(.hostKeyUnknown, "not known")
            case "h05": return .result(CommandResult(exitStatus: nil, exitSignal: "TERM", timedOut: true))
            default: return .error(.channelFailed, "refused the channel")
            }
        }
        let run = await AdHoc.run(RemoteCommand("x"), on: hosts(6), forks: 2, executor: executor)
        #expect(run.results.map(\.outcome.category) == [.ok, .failed, .unreachable, .unreachable, .timedOut, .failed])
        #expect(run.counts == [.ok: 1, .failed: 2, .unreachable: 2, .timedOut: 1])
        #expect(!run.allSucceeded)
        #expect(!run.noneReachable)
    }

    @Test("only unreachable hosts: none reachable (exit 3 for the CLI)")
    func noneReachable() async {
        let executor = ScriptedExecutor { _, _ in .error(.unreachable, "connection refused") }
        let run = await AdHoc.run(RemoteCommand("x"), on: hosts(3), forks: 3, executor: executor)
        #expect(run.noneReachable)
    }

    @Test("cancelling starts no new host; in-flight ones end as interrupted, the rest as not started")
    func cancellation() async {
        let executor = ScriptedExecutor { _, _ in .held(gate: "never", then: .result(CommandResult(exitStatus: 0))) }
        let task = Task { await AdHoc.run(RemoteCommand("x"), on: hosts(10), forks: 4, executor: executor) }
        await executor.waitForArrivals(at: "never", count: 4)
        task.cancel()
        executor.release("never")  // held commands return; the cancellation check fails them
        let run = await task.value
        #expect(run.interrupted)
        #expect(executor.calls.count == 4)
        #expect(run.results.count == 10)
        let messages = run.results.compactMap { r -> String? in
            if case .failed(let e) = r.outcome, e.kind == .cancelled { return e.message }
            return nil
        }
        #expect(messages.count == 10)
        #expect(messages.filter { $0.contains("not started") }.count == 6)
    }
}
