import FleetCore

/// `fleetup ping`: connect (handshake, host key, authentication), then run `true`, on every
/// host, `forks` at a time; results in inventory order.
public enum Ping {
    public static func run(
        _ hosts: [Host], forks: Int, executor: any RemoteExecutor,
        clock: some Clock<Duration> = ContinuousClock()
    ) async -> [PingResult] {
        let results = await FanOut.map(hosts, forks: forks) { host -> PingResult in
            do {
                let info = try await executor.connect(host)
                let start = clock.now
                let r = try await executor.run(RemoteCommand("true", timeout: .seconds(30)), on: host)
                let rtt = start.duration(to: clock.now)
                guard r.succeeded else {
                    return PingResult(
                        host: host.name, info: info,
                        error: RemoteError(
                            .channelFailed, host: host.name, "connected, but `true` ended with \(r.outcomeText): \(r.stderr.text)"))
                }
                return PingResult(host: host.name, info: info, roundTrip: rtt)
            } catch let e as RemoteError {
                return PingResult(host: host.name, error: e)
            } catch {
                return PingResult(host: host.name, error: RemoteError(.cancelled, host: host.name, "interrupted"))
            }
        }
        return zip(hosts, results).map { host, r in
            r ?? PingResult(host: host.name, error: RemoteError(.cancelled, host: host.name, "not started: interrupted"))
        }
    }
}
