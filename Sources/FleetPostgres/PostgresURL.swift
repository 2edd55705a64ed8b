/// A PostgreSQL store's address as given (`--store URL`, `FLEETUP_STORE`): a libpq URI,
/// `postgres://` or `postgresql://`, with user, password, host (or `?host=/socket/folder`),
/// port, database and parameters. Printed, it never shows the password.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// The text handed to libpq, password included.
    let libpqText: String
    /// The same with the password replaced by `***`.
    public let description: String
    public let user: String?
    public let host: String?
    public let database: String?

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws(Invalid) {
        let schemes = ["postgres://", "postgresql://"]
        guard let scheme = schemes.first(where: { text.hasPrefix($0) }) else {
            throw Invalid(description: "a store must be postgres://[user[:password]@][host][:port]/database, not \"\(Self.shown(text))\"")
        }
        guard !text.contains(where: { $0.isNewline || $0 == "\0" }) else { throw Invalid(description: "a store URL is one line") }
        libpqText = text
        let rest = text.dropFirst(scheme.count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var userInfo: Substring?
        var hostPart = authority
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            hostPart = authority[authority.index(after: at)...]
        }
        var shownUser: Substring?
        if let info = userInfo {
            if let colon = info.firstIndex(of: ":") {
                shownUser = info[..<colon]
                description = scheme + info[..<colon] + ":***@" + rest[hostPart.startIndex...]
            } else {
                shownUser = info
                description = text
            }
        } else {
            description = text
        }
        user = shownUser.map { Self.decoded($0) }
        let hostName = hostPart.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        let pathAndQuery = rest[authorityEnd...]
        let path = pathAndQuery.hasPrefix("/") ? pathAndQuery.dropFirst().prefix { $0 != "?" } : ""
        database = path.isEmpty ? nil : Self.decoded(path)
        let query = pathAndQuery.firstIndex(of: "?").map { pathAndQuery[pathAndQuery.index(after: $0)...] } ?? ""
        let hostParameter = query.split(separator: "&").first { $0.hasPrefix("host=") }.map { Self.decoded($0.dropFirst(5)) }
        host = hostName.isEmpty ? hostParameter : Self.decoded(Substring(hostName))
        if query.split(separator: "&").contains(where: { $0.hasPrefix("password=") }) {
            throw Invalid(description: "give the store's password in the URL's user part or in PGPASSWORD/~/.pgpass, not as ?password=")
        }
    }

    /// Percent-decoding of one URL part.
    static func decoded(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let u = s.utf8
        while i < u.endIndex {
            if u[i] == UInt8(ascii: "%"), let a = u.index(i, offsetBy: 1, limitedBy: u.endIndex), a < u.endIndex,
                let b = u.index(a, offsetBy: 1, limitedBy: u.endIndex), b < u.endIndex,
                let v = UInt8(String(decoding: [u[a], u[b]], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                i = u.index(after: b)
            } else {
                bytes.append(u[i])
                i = u.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A text that is not a store URL, shown without anything that looks like a password.
    static func shown(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        return "***" + text[at...]
    }
}
