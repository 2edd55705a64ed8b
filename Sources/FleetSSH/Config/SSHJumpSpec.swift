/// One hop of a ProxyJump chain as written: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
struct SSHJumpHop: Sendable, Hashable, CustomStringConvertible {
    var user: String?
    var host: String
    /// Nil when the hop names none (its ssh_config Port, else 22, applies).
    var port: Int?

    /// The way `ssh -G` prints a hop: `user@host:port`, IPv6 addresses in brackets.
    var description: String {
        (user.map { "\($0)@" } ?? "") + (host.contains(":") ? "[\(host)]" : host) + (port.map { ":\($0)" } ?? "")
    }
}

/// A ProxyJump value: `none`, or hops first to last (the last is the one next to the target).
enum SSHJumpSpec: Sendable, Hashable {
    case none
    /// `text` is the value as written, for messages.
    case hops([SSHJumpHop], text: String)

    typealias Problem = SSHConfigLine.Problem

    /// OpenSSH's `parse_jump`: comma-separated hops, each `[user@]host[:port]` (IPv6 as
    /// `[::1]:2222`) or an `ssh://` URI; the whole value `none` (any case) means no jump.
    static func parse(_ text: String) throws(Problem) -> SSHJumpSpec {
        if text.lowercased() == "none" { return .none }
        var hops: [SSHJumpHop] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            hops.append(try hop(raw))
        }
        return .hops(hops, text: text)
    }

    /// `[user@]host[:port]`, or the same behind `ssh://` (with an optional trailing `/`).
    static func hop(_ raw: Substring) throws(Problem) -> SSHJumpHop {
        var rest = raw
        if rest.hasPrefix("ssh://") {
            rest = rest.dropFirst(6)
            if rest.hasSuffix("/") { rest = rest.dropLast() }
        }
        guard !rest.isEmpty else { throw Problem(message: "empty hop (expected [user@]host[:port])") }
        guard !rest.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw Problem(message: "a hop cannot contain blanks (separate hops with commas only)")
        }
        var user: String? = nil
        if let at = rest.lastIndex(of: "@") {
            guard at != rest.startIndex else { throw Problem(message: "empty user before @") }
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var host: Substring
        var portText: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw Problem(message: "missing ] after an IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Problem(message: "expected :port after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
            if portText?.contains(":") == true {
                throw Problem(message: "write an IPv6 address in brackets: [\(rest)]")
            }
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw Problem(message: "missing host name") }
        var port: Int? = nil
        if let portText, !portText.isEmpty {
            do { port = try SSHSetting.port(String(portText), keyword: "port") } catch {
                throw Problem(message: "bad port \"\(portText)\"")
            }
        }
        return SSHJumpHop(user: user, host: String(host), port: port)
    }
}
