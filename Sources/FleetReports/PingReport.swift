import FleetCore
import Foundation

/// Renders `fleetup ping` results: one line per host, then a summary.
public enum PingReport {
    /// `host01  ok  12 ms  ssh-ed25519 SHA256:…  key /home/u/.ssh/id_ed25519`, or
    /// `host02  FAILED  unreachable: 127.0.0.1:1: connection refused (4 attempts)`.
    public static func text(_ results: [PingResult]) -> String {
        let width = results.map(\.host.count).max() ?? 0
        var out = ""
        for r in results {
            let name = r.host.padding(toLength: width, withPad: " ", startingAt: 0)
            if let info = r.info, let rtt = r.roundTrip {
                out += "\(name)  ok      \(AdHocReport.seconds(rtt))  \(info.hostKeyType) \(info.hostKeyFingerprint)  \(info.authenticatedWith)\n"
            } else if let e = r.error {
                let message = e.message.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width + 10))
                out += "\(name)  FAILED  \(e.kind.rawValue): \(message)\n"
            }
        }
        let ok = results.filter(\.ok).count
        return out + "\(results.count) \(results.count == 1 ? "host" : "hosts"): \(ok) ok, \(results.count - ok) failed\n"
    }

    /// `fleetup.ping/1`: one object per host with the same keys.
    public static func json(_ results: [PingResult]) -> String {
        let hosts: [[String: Any]] = results.map { r in
            [
                "host": r.host,
                "ok": r.ok,
                "round_trip_ms": r.roundTrip.map { milliseconds($0) } as Any? ?? NSNull(),
                "setup_ms": r.info.map { milliseconds($0.setupDuration) } as Any? ?? NSNull(),
                "server": r.info?.serverBanner as Any? ?? NSNull(),
                "host_key": r.info.map { "\($0.hostKeyType) \($0.hostKeyFingerprint)" } as Any? ?? NSNull(),
                "authenticated_with": r.info?.authenticatedWith as Any? ?? NSNull(),
                "error": r.error.map { ["kind": $0.kind.rawValue, "message": $0.message] } as Any? ?? NSNull(),
            ]
        }
        let doc: [String: Any] = ["schema": "fleetup.ping/1", "hosts": hosts,
                                  "summary": ["ok": results.filter(\.ok).count, "failed": results.filter { !$0.ok }.count]]
        return JSONText.render(doc)
    }
}
