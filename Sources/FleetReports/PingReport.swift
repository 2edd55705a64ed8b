import FleetCore
import Foundation

/// Renders `fleetup ping` results: one line per host, then a summary.
public enum PingReport {
    /// `host01  ok  12 ms  ssh-ed25519 SHA256:…  key /home/u/.ssh/id_ed25519`, or
    /// `host02  FAILED  unreachable: 127.0.0.1:1: connection refused (4 attempts)`.
    public static func text(_ results: [PingResult], style: TextStyle = .plain) -> String {
        let width = results.map(\.host.count).max() ?? 0
        var out = ""
        for r in results {
            let name = r.host.padding(toLength: width, withPad: " ", startingAt: 0)
            if let info = r.info, let rtt = r.roundTrip {
                out +=
                    "\(name)  \(style.paint("ok", .good))      \(AdHocReport.seconds(rtt))  \(info.hostKeyType) \(info.hostKeyFingerprint)  \(info.authenticatedWith)\n"
            } else if let e = r.error {
                let message = e.message.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width + 10))
                out += "\(name)  \(style.paint("FAILED", .bad))  \(e.kind.rawValue): \(message)\n"
            }
        }
        let ok = results.filter(\.ok).count
        return out + "\(results.count) \(results.count == 1 ? "host" : "hosts"): \(ok) ok, \(results.count - ok) failed\n"
    }

    /// `fleetup.ping/1`: one object per host with the same keys.
    public static func json(_ results: [PingResult]) -> String {
        let hosts: [JSON] = results.map { r in
            .object([
                ("host", .string(r.host)),
                ("ok", .bool(r.ok)),
                ("round_trip_ms", .int(r.roundTrip.map { milliseconds($0) })),
                ("setup_ms", .int(r.info.map { milliseconds($0.setupDuration) })),
                ("server", .text(r.info?.serverBanner)),
                ("host_key", .text(r.info.map { "\($0.hostKeyType) \($0.hostKeyFingerprint)" })),
                ("authenticated_with", .text(r.info?.authenticatedWith)),
                ("error", r.error.map { .object([("kind", .string($0.kind.rawValue)), ("message", .string($0.message))]) } ?? .null),
            ])
        }
        return JSON.object([
            ("schema", .string("fleetup.ping/1")), ("hosts", .array(hosts)),
            ("summary", .object([("ok", .int(results.filter(\.ok).count)), ("failed", .int(results.filter { !$0.ok }.count))])),
        ]).render() + "\n"
    }
}
