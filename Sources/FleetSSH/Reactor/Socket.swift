import FleetLocal
import Foundation

/// A resolved socket address (IPv4 or IPv6).
struct SocketAddress: Sendable, CustomStringConvertible {
    fileprivate var storage = sockaddr_storage()
    fileprivate var length: socklen_t = 0
    var family: Int32 { Int32(storage.ss_family) }
    let description: String

    /// Parses a numeric address without any lookup (`127.0.0.1`, `::1`).
    init?(numeric host: String, port: Int) {
        description = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeBytes(of: v4) { src in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeBytes(of: v6) { src in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            return nil
        }
    }

    private init(raw: UnsafePointer<sockaddr>, length: socklen_t, name: String) {
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: Int(length)))
        }
        self.length = length
        self.description = name
    }

    /// Resolves a host name with getaddrinfo on a thread of its own (it may block for
    /// seconds; never on the cooperative pool, never on the reactor).
    static func resolve(_ host: String, port: Int) async throws -> [SocketAddress] {
        if let numeric = SocketAddress(numeric: host, port: port) { return [numeric] }
        return try await Blocking.run("fleetup-resolve") {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var result: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &result)
            guard rc == 0 else { throw ResolveError(message: String(cString: gai_strerror(rc))) }
            defer { freeaddrinfo(result) }
            var out: [SocketAddress] = []
            var p = result
            while let ai = p {
                if let sa = ai.pointee.ai_addr {
                    out.append(SocketAddress(raw: sa, length: ai.pointee.ai_addrlen, name: "\(host):\(port)"))
                }
                p = ai.pointee.ai_next
            }
            return out
        }
    }

    struct ResolveError: Error { var message: String }
}

/// Non-blocking TCP sockets for the reactor.
enum TCPSocket {
    struct Errno: Error { var code: Int32 }

    /// Starts a connect; returns the fd (connected or in progress) or the errno.
    static func startConnect(to address: SocketAddress) -> Result<Int32, Errno> {
        let fd = socket(
            address.family,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno(code: errno)) }
        var one: Int32 = 1
        // Small SSH packets must not wait for Nagle or delayed ACKs (the 40 ms stalls).
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if rc == 0 || errno == EINPROGRESS { return .success(fd) }
        let code = errno
        close(fd)
        return .failure(Errno(code: code))
    }

    /// The result of a finished non-blocking connect (0 when connected).
    static func connectError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    static func describe(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ETIMEDOUT: return "connection timed out"
        case EHOSTUNREACH: return "no route to host"
        case ENETUNREACH: return "network unreachable"
        case ECONNRESET: return "connection reset by peer"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}
