import FleetCore
import Foundation

/// The HTTP of an `http` probe, pure: the request fleetup sends through the tunnel and the
/// reading of what comes back. HTTP/1.1 with `Connection: close`, so the response ends when
/// the app closes the stream; at most `limit` bytes are read.
public enum HTTPProbe {
    public static let limit = 64 * 1024

    public static func request(host: String, port: Int, path: String) -> [UInt8] {
        let hostHeader = port == 80 ? host : "\(host):\(port)"
        return Array("GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: fleetup\r\nAccept: */*\r\nConnection: close\r\n\r\n".utf8)
    }

    public struct Response: Sendable, Hashable {
        public var status: Int
        public var body: String
    }

    /// The status and body; nil when the bytes are not an HTTP response.
    public static func parse(_ bytes: [UInt8]) -> Response? {
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        if bytes.count >= 4 {
            for i in 0...(bytes.count - 4) where Array(bytes[i..<i + 4]) == crlfcrlf {
                headerEnd = i
                break
            }
        }
        let head = String(decoding: bytes[..<(headerEnd ?? bytes.count)], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]), (100...599).contains(status) else {
            return nil
        }
        var body = headerEnd.map { Array(bytes[($0 + 4)...]) } ?? []
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return Response(status: status, body: String(decoding: body, as: UTF8.self))
    }

    /// Whether the response passes, and the transcript's words for it.
    public static func evaluate(_ r: Response, expectStatus: [Int]?, bodyContains: String?) -> (Bool, String) {
        let statusOK = expectStatus.map { $0.contains(r.status) } ?? (200...399).contains(r.status)
        let bodyOK = bodyContains.map { r.body.contains($0) } ?? true
        var detail = "status \(r.status), \(r.body.utf8.count) bytes: \(head(of: r.body))"
        if statusOK && !bodyOK, let b = bodyContains { detail += " (no \(b) in the body)" }
        return (statusOK && bodyOK, detail)
    }

    /// The body's first 200 characters on one line.
    static func head(of body: String) -> String {
        let flat = body.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ")
        return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
    }

    private static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            var j = i
            while j + 1 < bytes.count && !(bytes[j] == 13 && bytes[j + 1] == 10) { j += 1 }
            let sizeText = String(decoding: bytes[i..<j], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = j + 2
            let end = min(bytes.count, start + size)
            out += bytes[start..<end]
            i = end + 2
        }
        return out
    }
}
