/// Where an http or tcp health probe connects, read from the playbook's text: the one parser
/// that `check` (at load for literal values, per host for templates) and the planner use, so
/// that what `check` passes `plan` and `run` accept.
public struct ProbeAddress: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// For http: the request's path (`/` when the URL has none).
    public var path: String

    public init(host: String, port: Int, path: String = "/") {
        self.host = host
        self.port = port
        self.path = path
    }

    /// What an http probe's URL or a tcp probe's address gets wrong, in lower case with what
    /// was expected (the caller adds the file, line and probe).
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// `http://HOST[:PORT][/PATH]`: port 80 and path `/` when absent; IPv6 in brackets.
    public static func url(_ text: String) throws(Problem) -> ProbeAddress {
        let expected = "expected http://HOST:PORT/PATH"
        guard text.hasPrefix("http://") else {
            throw Problem("\"\(text)\" is not an http URL (\(expected); the probe goes through the SSH connection, so no TLS)")
        }
        let rest = text.dropFirst(7)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !authority.isEmpty else { throw Problem("\"\(text)\" has no host (\(expected))") }
        guard !authority.contains("@") else { throw Problem("\"\(text)\": a user in the URL is not supported (\(expected))") }
        let (host, port) = try split(authority, in: text, defaultPort: 80)
        return ProbeAddress(host: host, port: port, path: path)
    }

    /// `PORT` (on 127.0.0.1), `HOST:PORT` or `[IPv6]:PORT`.
    public static func tcp(_ text: String) throws(Problem) -> ProbeAddress {
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) { return ProbeAddress(host: "127.0.0.1", port: try port(text, in: text)) }
        guard text.contains(":") else {
            throw Problem("\"\(text)\" is not an address (expected PORT, HOST:PORT or [IPv6]:PORT)")
        }
        let (host, port) = try split(text, in: text, defaultPort: nil)
        return ProbeAddress(host: host, port: port)
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; a missing port is `defaultPort` (nil: required).
    private static func split(_ authority: String, in text: String, defaultPort: Int?) throws(Problem) -> (String, Int) {
        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw Problem("\"\(text)\": \"[\" is not closed by \"]\" (expected [IPv6]:PORT)")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Problem("\"\(text)\": expected \":PORT\" after \"]\", got \"\(after)\"") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
            if portText!.contains(":") {
                throw Problem("\"\(text)\": an IPv6 address goes in brackets (expected [IPv6]:PORT)")
            }
        } else {
            host = authority[...]
        }
        guard !host.isEmpty else { throw Problem("\"\(text)\" has no host before the port (expected HOST:PORT)") }
        guard let portText else {
            guard let defaultPort else { throw Problem("\"\(text)\" has no port (expected HOST:PORT)") }
            return (String(host), defaultPort)
        }
        return (String(host), try port(String(portText), in: text))
    }

    private static func port(_ text: String, in whole: String) throws(Problem) -> Int {
        guard !text.isEmpty else { throw Problem("\"\(whole)\" has no port after \":\" (expected 1-65535)") }
        guard text.allSatisfy(\.isASCIIDigit) else {
            throw Problem("\"\(whole)\": \"\(text)\" is not a port (expected 1-65535)")
        }
        // Digits only: anything too long for an Int is out of range too.
        guard let p = Int(text), (1...65535).contains(p) else {
            throw Problem("\"\(whole)\": port \(text) is out of range (expected 1-65535)")
        }
        return p
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
