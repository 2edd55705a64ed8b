import Foundation
import Synchronization

/// A webhook receiver on 127.0.0.1 for tests and the demo: it records every POST (path and
/// body) and answers each with the next of its scripted answers (then `then`), or never
/// answers (`.silent`: it reads the request and keeps the connection open until stopped).
/// One thread accepts; each connection gets a thread of its own.
public final class WebhookReceiver: Sendable {
    public enum Answer: Sendable, Equatable {
        case status(Int)
        case silent
    }

    public struct Request: Sendable, Equatable {
        public var path: String
        public var body: String
    }

    public let port: Int
    private let listener: Int32
    private let state: Mutex<(script: [Answer], requests: [Request], open: [Int32], stopped: Bool)>
    private let then: Answer
    private let onRequest: (@Sendable (Request) -> Void)?

    /// Listens at once on an ephemeral port of 127.0.0.1. `onRequest` sees each request
    /// before it is answered (so whoever posted it finds it recorded once answered).
    public init(answers: [Answer] = [], then: Answer = .status(200), onRequest: (@Sendable (Request) -> Void)? = nil) throws {
        (listener, port) = try LoopbackListener.open(backlog: 16)
        self.then = then
        self.onRequest = onRequest
        state = Mutex((answers, [], [], false))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "webhook-receiver"
        thread.start()
    }

    public var requests: [Request] { state.withLock { $0.requests } }

    /// Stops listening and closes every connection (a silent one included).
    public func stop() {
        let open = state.withLock { s -> [Int32] in
            s.stopped = true
            return s.open
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let stopped = state.withLock { s -> Bool in
                if !s.stopped { s.open.append(fd) }
                return s.stopped
            }
            if stopped {
                close(fd)
                return
            }
            let thread = Thread { [self] in serve(fd) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var request: Request?
        while request == nil {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            data += buffer[0..<n]
            request = Self.parse(data)
        }
        onRequest?(request!)
        let answer = state.withLock { s -> Answer in
            s.requests.append(request!)
            return s.script.isEmpty ? then : s.script.removeFirst()
        }
        guard case .status(let code) = answer else {
            // Never answers: waits for the client to give up (or the receiver to stop).
            while read(fd, &buffer, buffer.count) > 0 {}
            return
        }
        let reply = "HTTP/1.1 \(code) X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        _ = reply.withCString { write(fd, $0, strlen($0)) }
    }

    /// A whole request (its head and Content-Length bytes of body), or nil for more bytes.
    static func parse(_ data: [UInt8]) -> Request? {
        guard let end = data.indices.dropLast(3).first(where: { data[$0...($0 + 3)].elementsEqual([13, 10, 13, 10]) }) else {
            return nil
        }
        let head = String(decoding: data[..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let path = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let length =
            lines.dropFirst().compactMap { line -> Int? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
        let bodyStart = end + 4
        guard data.count - bodyStart >= length else { return nil }
        return Request(path: path, body: String(decoding: data[bodyStart..<(bodyStart + length)], as: UTF8.self))
    }
}

public struct ReceiverError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// A listening TCP socket on an ephemeral port of 127.0.0.1: the tests' fake servers start
/// here.
public enum LoopbackListener {
    public static func open(backlog: Int32) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ReceiverError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw ReceiverError("127.0.0.1: bind/listen: \(why)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
