import Foundation
import Synchronization

/// Hands out free TCP ports on 127.0.0.1 outside Linux's ephemeral range (32768-60999 by
/// default; read from /proc), so a fleet's ports never collide with the source ports of
/// outgoing connections. Fleets in one process (parallel tests) never get the same port;
/// fleets in other processes are avoided by a bind check (and sshd's own bind, which
/// `TestFleet.up` retries on new ports after a clash).
enum PortAllocator {
    static let range = outsideEphemeral(
        (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? "")

    /// 20000-31999 below the ephemeral range where it starts above 21000, else above it where
    /// it ends below 64000, else 20000-31999 all the same (clashes are then retried).
    static func outsideEphemeral(_ text: String) -> Range<Int> {
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard bounds.count == 2 else { return 20000..<32000 }
        if bounds[0] > 21000 { return 20000..<min(32000, bounds[0]) }
        if bounds[1] < 64000 { return (bounds[1] + 1)..<65536 }
        return 20000..<32000
    }
    private static let next = Mutex<Int>(range.lowerBound + (Int(getpid() % 97) * 100) % range.count)

    /// A port that was free a moment ago and that this process has not handed out before.
    static func take() throws -> Int {
        for _ in 0..<range.count {
            let candidate = next.withLock { n -> Int in
                let p = n
                n = n + 1 >= range.upperBound ? range.lowerBound : n + 1
                return p
            }
            if isFree(candidate) { return candidate }
        }
        throw Tool.Failure(description: "no free port on 127.0.0.1 in \(range)")
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
