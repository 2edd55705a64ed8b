import FleetCore

/// Runs work on many hosts with at most `forks` in flight, returning results in the
/// order of `hosts` whatever order they finish in; nil for hosts never started because the
/// caller was cancelled (its cancellation also reaches the work in flight, and the
/// executor then ends remote commands).
public enum FanOut {
    public static func map<T: Sendable>(
        _ hosts: [Host], forks: Int,
        _ work: @escaping @Sendable (Host) async -> T
    ) async -> [T?] {
        let width = max(1, forks)
        return await withTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: hosts.count)
            var next = 0
            while next < min(width, hosts.count) {
                let i = next
                group.addTask { (i, await work(hosts[i])) }
                next += 1
            }
            while let (i, value) = await group.next() {
                results[i] = value
                // Nothing new starts once the run is cancelled (first Ctrl-C).
                if next < hosts.count && !Task.isCancelled {
                    let j = next
                    group.addTask { (j, await work(hosts[j])) }
                    next += 1
                }
            }
            return results
        }
    }
}

/// `fleetup exec`: one command on every host, through any `RemoteExecutor`.
public enum AdHoc {
    /// Runs `command` on `hosts`, `forks` at a time. Hosts not started because the run
    /// was cancelled are reported as cancelled.
    public static func run(
        _ command: RemoteCommand, on hosts: [Host], forks: Int,
        executor: any RemoteExecutor, clock: some Clock<Duration> = ContinuousClock()
    ) async -> AdHocRun {
        await run({ _ in command }, display: command.display, on: hosts, forks: forks, executor: executor, clock: clock)
    }

    /// The same, with each host's own command (its become settings, say).
    public static func run(
        _ command: @escaping @Sendable (Host) -> RemoteCommand, display: String, on hosts: [Host],
        forks: Int, executor: any RemoteExecutor,
        clock: some Clock<Duration> = ContinuousClock()
    ) async -> AdHocRun {
        let start = clock.now
        let started = await FanOut.map(hosts, forks: forks) { host -> AdHocHostResult in
            do {
                try Task.checkCancellation()
                return AdHocHostResult(host: host.name, outcome: .ran(try await executor.run(command(host), on: host)))
            } catch let e as RemoteError {
                return AdHocHostResult(host: host.name, outcome: .failed(e))
            } catch {
                return AdHocHostResult(
                    host: host.name,
                    outcome: .failed(
                        RemoteError(.cancelled, host: host.name, "not run: fleetup was interrupted")))
            }
        }
        let results = zip(hosts, started).map { host, result in
            result
                ?? AdHocHostResult(
                    host: host.name,
                    outcome: .failed(
                        RemoteError(.cancelled, host: host.name, "not started: fleetup was interrupted")))
        }
        let interrupted =
            Task.isCancelled
            || results.contains {
                if case .failed(let e) = $0.outcome { return e.kind == .cancelled }
                return false
            }
        return AdHocRun(
            command: display, results: results, duration: start.duration(to: clock.now),
            interrupted: interrupted)
    }
}
