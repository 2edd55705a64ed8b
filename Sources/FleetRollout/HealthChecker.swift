import FleetCore

/// Runs a host's probes (design.md §5.3) through the executor, with time from the injected
/// clock: http and tcp through an SSH tunnel to the host, commands on the host. All probes
/// run side by side; the host is healthy when every probe is, unhealthy as soon as one is.
public struct HealthChecker<C: Clock>: Sendable where C.Duration == Duration {
    public let executor: any RemoteExecutor
    public let clock: C
    /// Makes output safe to record (the host's secrets).
    public let redactor: Redactor

    public init(executor: any RemoteExecutor, clock: C, redactor: Redactor = Redactor()) {
        self.executor = executor
        self.clock = clock
        self.redactor = redactor
    }

    public func check(_ probes: [PlannedProbe], on host: Host, context: String) async -> HealthRecord {
        let start = clock.now
        let records = await withTaskGroup(of: (Int, ProbeRecord).self) { group -> [ProbeRecord] in
            for (i, p) in probes.enumerated() {
                group.addTask { (i, await self.run(p, on: host, start: start)) }
            }
            var out = [ProbeRecord?](repeating: nil, count: probes.count)
            while let (i, r) = await group.next() {
                out[i] = r
                // One unhealthy probe decides: the others need not go on.
                if !r.healthy { group.cancelAll() }
            }
            return out.enumerated().map { i, r in
                r
                    ?? ProbeRecord(
                        target: probes[i].target, expectation: probes[i].expectation, healthy: false,
                        verdict: "not finished: another probe failed first", attempts: [])
            }
        }
        let healthy = !records.isEmpty && records.allSatisfy(\.healthy)
        return HealthRecord(
            context: context, healthy: healthy, probes: records,
            durationMs: start.duration(to: clock.now).milliseconds)
    }

    private func run(_ probe: PlannedProbe, on host: Host, start: C.Instant) async -> ProbeRecord {
        var counter = ProbeCounter(probe.timing)
        var at = counter.firstAttempt
        func record(_ healthy: Bool, _ verdict: String, logs: String? = nil) -> ProbeRecord {
            ProbeRecord(
                target: probe.target, expectation: probe.expectation, healthy: healthy, verdict: verdict,
                attempts: counter.attempts, logs: logs)
        }
        while true {
            do {
                try await clock.sleep(until: start.advanced(by: at), tolerance: nil)
            } catch {
                return record(false, "interrupted")
            }
            let began = start.duration(to: clock.now)
            let (passed, detail) = await attempt(probe, on: host)
            if Task.isCancelled { return record(false, "interrupted") }
            let ended = start.duration(to: clock.now)
            switch counter.record(startedAt: began, endedAt: ended, passed: passed, detail: redactor.redact(detail)) {
            case .healthy(let why):
                return record(true, why)
            case .unhealthy(let why):
                return record(false, why, logs: await logs(probe, on: host))
            case .next(let next):
                at = next
            }
        }
    }

    /// One attempt, ended by the probe's timeout.
    private func attempt(_ probe: PlannedProbe, on host: Host) async -> (Bool, String) {
        let timeout = probe.timing.timeout
        if case .command(let command) = probe.kind {
            // The executor ends the command at its timeout (and the process on the host).
            return await commandAttempt(command, on: host)
        }
        return await withTaskGroup(of: (Bool, String)?.self) { group in
            group.addTask { await self.tunnelAttempt(probe, on: host) }
            group.addTask {
                do { try await self.clock.sleep(for: timeout) } catch { return nil }
                return (false, "timed out after \(DurationText.format(timeout))")
            }
            var answer: (Bool, String) = (false, "interrupted")
            while let r = await group.next() {
                guard let r else { continue }
                answer = r
                group.cancelAll()
                break
            }
            return answer
        }
    }

    private func commandAttempt(_ command: RemoteCommand, on host: Host) async -> (Bool, String) {
        do {
            let r = try await executor.run(command, on: host)
            if r.succeeded { return (true, "exit 0") }
            let tail = r.stderr.text.split(separator: "\n").last.map { ": \($0)" } ?? ""
            return (false, r.outcomeText + tail)
        } catch let e as RemoteError {
            return (false, "\(e.kind.rawValue): \(e.message)")
        } catch {
            return (false, "interrupted")
        }
    }

    private func tunnelAttempt(_ probe: PlannedProbe, on host: Host) async -> (Bool, String) {
        switch probe.kind {
        case .tcp(let h, let port):
            do {
                let t = try await executor.openTunnel(to: h, port: port, on: host)
                await t.close()
                return (true, "connected to \(h):\(port)")
            } catch let e as RemoteError {
                return (false, e.message)
            } catch {
                return (false, "interrupted")
            }
        case .http(let h, let port, let path):
            do {
                let t = try await executor.openTunnel(to: h, port: port, on: host)
                defer { Task { await t.close() } }
                try await t.write(HTTPProbe.request(host: h, port: port, path: path))
                var bytes: [UInt8] = []
                while bytes.count < HTTPProbe.limit, let chunk = try await t.read() { bytes += chunk }
                await t.close()
                guard let response = HTTPProbe.parse(bytes) else {
                    return (
                        false,
                        bytes.isEmpty
                            ? "the connection closed with no response"
                            : "not an HTTP response: \(HTTPProbe.head(of: String(decoding: bytes.prefix(200), as: UTF8.self)))"
                    )
                }
                return HTTPProbe.evaluate(response, expectStatus: probe.expectStatus, bodyContains: probe.bodyContains)
            } catch let e as RemoteError {
                return (false, e.message)
            } catch {
                return (false, "interrupted")
            }
        case .command:
            return (false, "a command probe has no tunnel")
        }
    }

    /// The tail of the probe's `logs:` command.
    private func logs(_ probe: PlannedProbe, on host: Host) async -> String? {
        guard let command = probe.logs else { return nil }
        do {
            let r = try await executor.run(command, on: host)
            return redactor.redact(Redactor.tail(r.stdout.text + r.stderr.text, lines: 50))
        } catch let e as RemoteError {
            return "(logs not read: \(e.kind.rawValue): \(e.message))"
        } catch {
            return nil
        }
    }
}
