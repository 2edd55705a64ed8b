import FleetCore
import FleetRollout
import FleetTestSupport
import Testing

@Suite("health: Kubernetes counting, HTTP through the tunnel, the checker on a manual clock")
struct HealthCountingTests {
    private func timing(
        success: Int = 1, failure: Int = 3, period: Duration = .seconds(2), deadline: Duration = .seconds(60),
        initialDelay: Duration = .zero
    ) -> ProbeTiming {
        ProbeTiming(
            initialDelay: initialDelay, period: period, timeout: .seconds(1), successThreshold: success,
            failureThreshold: failure, deadline: deadline)
    }

    @Test("the worked example: fail at 0s, 2s, 4s is unhealthy at the third; a pass (of 2 needed) resets the count")
    func workedExample() {
        var c = ProbeCounter(timing())
        #expect(c.record(startedAt: .zero, endedAt: .milliseconds(5), passed: false, detail: "503") == .next(at: .seconds(2)))
        #expect(c.record(startedAt: .seconds(2), endedAt: .seconds(2), passed: false, detail: "503") == .next(at: .seconds(4)))
        #expect(
            c.record(startedAt: .seconds(4), endedAt: .seconds(4), passed: false, detail: "503") == .unhealthy("3 consecutive failures"))

        var r = ProbeCounter(timing(success: 2))
        for (i, pass) in [false, true, false, false].enumerated() {
            let at = Duration.seconds(2 * i)
            #expect(r.record(startedAt: at, endedAt: at, passed: pass, detail: "") == .next(at: at + .seconds(2)), "attempt \(i + 1)")
        }
        #expect(r.record(startedAt: .seconds(8), endedAt: .seconds(8), passed: false, detail: "") == .unhealthy("3 consecutive failures"))
        #expect(r.attempts.count == 5)
    }

    @Test("success_threshold counts consecutive passes; a slow attempt starts the next one at once")
    func successAndSlow() {
        var c = ProbeCounter(timing(success: 2))
        #expect(c.record(startedAt: .zero, endedAt: .seconds(3), passed: true, detail: "") == .next(at: .seconds(3)))
        #expect(c.record(startedAt: .seconds(3), endedAt: .seconds(3), passed: true, detail: "") == .healthy("2 consecutive passes"))
    }

    @Test("the deadline ends the check when no further attempt could start before it")
    func deadline() {
        var c = ProbeCounter(timing(failure: 100, period: .seconds(2), deadline: .seconds(5), initialDelay: .seconds(10)))
        #expect(c.firstAttempt == .seconds(10))
        #expect(c.record(startedAt: .seconds(10), endedAt: .seconds(10), passed: false, detail: "") == .next(at: .seconds(12)))
        #expect(c.record(startedAt: .seconds(12), endedAt: .seconds(12), passed: false, detail: "") == .next(at: .seconds(14)))
        #expect(
            c.record(startedAt: .seconds(14), endedAt: .seconds(14), passed: false, detail: "")
                == .unhealthy("not healthy within its deadline of 5s"))
    }

    @Test("HTTP: status and body read, 200-399 pass by default, expect narrows, chunked bodies joined")
    func http() throws {
        let ok = try #require(HTTPProbe.parse(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"OK\"}".utf8)))
        #expect(ok.status == 200)
        #expect(HTTPProbe.evaluate(ok, expectStatus: nil, bodyContains: "\"status\":\"OK\"").0)
        #expect(!HTTPProbe.evaluate(ok, expectStatus: nil, bodyContains: "\"status\":\"DOWN\"").0)
        #expect(
            HTTPProbe.evaluate(ok, expectStatus: nil, bodyContains: "x").1.hasPrefix(
                "status 200, 15 bytes: {\"status\":\"OK\"} (no x in the body)"))
        let redirect = try #require(HTTPProbe.parse(Array("HTTP/1.0 302 Found\r\n\r\n".utf8)))
        #expect(HTTPProbe.evaluate(redirect, expectStatus: nil, bodyContains: nil).0)
        #expect(!HTTPProbe.evaluate(redirect, expectStatus: [200], bodyContains: nil).0)
        let chunked = try #require(
            HTTPProbe.parse(Array("HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndown\r\n3\r\n!!!\r\n0\r\n\r\n".utf8)))
        #expect(chunked.body == "down!!!")
        #expect(HTTPProbe.parse(Array("SSH-2.0-OpenSSH\r\n".utf8)) == nil)
        #expect(
            String(decoding: HTTPProbe.request(host: "127.0.0.1", port: 8065, path: "/api/v4/system/ping"), as: UTF8.self)
                .hasPrefix("GET /api/v4/system/ping HTTP/1.1\r\nHost: 127.0.0.1:8065\r\n"))
    }

    @Test("the checker: an http probe through the tunnel passes; a refused one fails after failure_threshold attempts a period apart")
    func checker() async throws {
        let executor = ScriptedExecutor(tunnels: { host, _, port in
            host == "good" ? .http(200, "{\"status\":\"OK\"}") : .refused("connection refused (port \(port))")
        }) { _, _ in .result(CommandResult(exitStatus: 0)) }
        let clock = ManualClock()
        let checker = HealthChecker(executor: executor, clock: clock)
        let probe = PlannedProbe(
            kind: .http(host: "127.0.0.1", port: 8065, path: "/ping"), expectStatus: [200],
            bodyContains: "\"status\":\"OK\"", timing: timing(failure: 2))
        let good = await checker.check([probe], on: Host(name: "good"), context: "after 1 -> 2")
        #expect(good.healthy)
        #expect(good.probes.first?.attempts.count == 1)

        // Each attempt also sleeps on the clock for its timeout: let time run whenever all wait.
        let bad = try await drive(clock, while: Task { await checker.check([probe], on: Host(name: "bad"), context: "after 1 -> 2") })
        #expect(!bad.healthy)
        #expect(bad.probes.first?.attempts.map(\.atMs) == [0, 2000])
        #expect(bad.probes.first?.attempts.first?.detail == "connection refused (port 8065)")
        #expect(bad.durationMs >= 2000)  // the driver may also run out a cancelled timeout's sleep
    }

    @Test("an attempt that outlasts its timeout fails as timed out (the manual clock decides)")
    func timeout() async {
        let executor = ScriptedExecutor(tunnels: { _, _, _ in .held(gate: "never", then: .http(200, "")) }) { _, _ in
            .result(CommandResult(exitStatus: 0))
        }
        let clock = ManualClock()
        let probe = PlannedProbe(kind: .tcp(host: "127.0.0.1", port: 5432), timing: timing(failure: 1))
        let task = Task { await HealthChecker(executor: executor, clock: clock).check([probe], on: Host(name: "h"), context: "x") }
        await executor.waitForArrivals(at: "never", count: 1)
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        let r = await task.value
        #expect(!r.healthy)
        #expect(r.probes.first?.attempts.first?.detail == "timed out after 1s")
    }
}
