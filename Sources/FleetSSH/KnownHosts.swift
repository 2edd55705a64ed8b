import FleetCore
import FleetLocal
import Foundation
import Synchronization

/// One usable line of a known_hosts file.
struct KnownHostEntry: Sendable, Hashable {
    enum Marker: Sendable, Hashable { case none, revoked, certAuthority }
    enum Names: Sendable, Hashable {
        /// Comma-separated patterns (`web1`, `[10.0.0.5]:2222`, `*.example.com`, `!bad`).
        case patterns([String])
        /// `|1|salt|hash`: HMAC-SHA1 of the name, keyed with the salt.
        case hashed(salt: [UInt8], hash: [UInt8])
    }

    var marker: Marker
    var names: Names
    var keyType: String
    var keyBlob: [UInt8]
    /// Where the entry was read, for messages (`/home/u/.ssh/known_hosts:12`).
    var origin: String

    var fingerprint: String { Digest.fingerprint(ofKeyBlob: keyBlob) }

    /// The known_hosts spelling of a host and port: `name`, or `[name]:port` when not 22.
    /// Lower case, as ssh lowercases host names before looking them up or hashing them.
    static func lookupName(host: String, port: Int) -> String {
        let h = host.lowercased()
        return port == 22 ? h : "[\(h)]:\(port)"
    }

    /// True when the entry names `lookupName` (OpenSSH's rules: a matching negated
    /// pattern wins over every positive one; wildcards `*` and `?`).
    func matches(_ lookupName: String) -> Bool {
        switch names {
        case .hashed(let salt, let hash):
            return Digest.hmacSHA1(key: salt, message: Array(lookupName.utf8)) == hash
        case .patterns(let patterns):
            // The same rule as ssh_config's Host lines.
            return SSHPattern.hostLine(patterns, matches: lookupName)
        }
    }

    /// Parses one line; nil for blank lines, comments and lines OpenSSH would skip.
    static func parse(_ line: Substring, origin: String) -> KnownHostEntry? {
        // Split on bytes: a Character-wise split of a 65 MB line (a sparse file given as
        // --known-hosts) took seconds; known_hosts' separators are ASCII.
        var fields = line.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { Substring($0) }[...]
        guard let first = fields.first, !first.hasPrefix("#") else { return nil }
        var marker = Marker.none
        if first.hasPrefix("@") {
            switch first {
            case "@revoked": marker = .revoked
            case "@cert-authority": marker = .certAuthority
            default: return nil
            }
            fields = fields.dropFirst()
        }
        guard fields.count >= 3 else { return nil }
        let hostField = fields[fields.startIndex]
        let keyType = String(fields[fields.startIndex + 1])
        guard let blob = Base64.decode(fields[fields.startIndex + 2]) else { return nil }
        let names: Names
        if hostField.hasPrefix("|1|") {
            let parts = hostField.split(separator: "|", omittingEmptySubsequences: true)
            guard parts.count == 3, let salt = Base64.decode(parts[1]), let hash = Base64.decode(parts[2]) else { return nil }
            names = .hashed(salt: salt, hash: hash)
        } else {
            names = .patterns(hostField.split(separator: ",").map { $0.lowercased() })
        }
        return KnownHostEntry(marker: marker, names: names, keyType: keyType, keyBlob: blob, origin: origin)
    }
}

/// What known_hosts says about the key a server presented.
enum HostKeyVerdict: Sendable, Equatable {
    /// An entry holds exactly this key.
    case known(origin: String)
    /// The key is marked `@revoked`.
    case revoked(origin: String)
    /// Entries for this host hold another key of the same type.
    case changed(known: [KnownHostEntry])
    /// No entry holds a key of this type for this host.
    case unknown
}

/// The known_hosts files of a run: parsed once, shared by every connection, appended to
/// (the first user file) when `accept-new` records a key.
final class KnownHostsStore: Sendable {
    let userFiles: [String]
    let globalFiles: [String]
    private let entries: Mutex<KnownHostsIndex>

    /// The longest line read as an entry: a 16,384-bit RSA key line is about 2.8 KB.
    static let maxLineBytes = 64 << 10

    init(userFiles: [String], globalFiles: [String] = ["/etc/ssh/ssh_known_hosts"]) {
        self.userFiles = userFiles
        self.globalFiles = globalFiles
        var index = KnownHostsIndex()
        for file in userFiles + globalFiles {
            // Unreadable ones are skipped, as before; bounded (and no devices) like every input.
            guard let bytes = try? InputFile.read(file, limit: 256 << 20) else { continue }
            // Lines found on the bytes (a CRLF file's lines lose their CR); a line that is not
            // UTF-8, or longer than any key line can be, is skipped: a 65 MB sparse file given
            // as --known-hosts once took seconds to split into characters.
            var start = 0
            var number = 0
            while start <= bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                number += 1
                var stop = end
                if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
                if stop - start <= Self.maxLineBytes, let line = String(validating: bytes[start..<stop], as: UTF8.self),
                    let e = KnownHostEntry.parse(Substring(line), origin: "\(file):\(number)")
                {
                    index.add(e)
                }
                start = end + 1
            }
        }
        entries = Mutex(index)
    }

    /// Key types known for the host, in file order: the server is asked for these first,
    /// so a host known by its ed25519 key is not reported unknown for offering ecdsa.
    func knownKeyTypes(host: String, port: Int) -> [String] {
        let name = KnownHostEntry.lookupName(host: host, port: port)
        var types: [String] = []
        for e in entries.withLock({ $0.candidates(name) }) where e.marker == .none && !types.contains(e.keyType) {
            types.append(e.keyType)
        }
        return types
    }

    func verify(host: String, port: Int, keyType: String, keyBlob: [UInt8]) -> HostKeyVerdict {
        let name = KnownHostEntry.lookupName(host: host, port: port)
        let candidates = entries.withLock { $0.candidates(name) }
        if let r = candidates.first(where: { $0.marker == .revoked && $0.keyBlob == keyBlob }) {
            return .revoked(origin: r.origin)
        }
        let plain = candidates.filter { $0.marker == .none && $0.keyType == keyType }
        if let m = plain.first(where: { $0.keyBlob == keyBlob }) { return .known(origin: m.origin) }
        return plain.isEmpty ? .unknown : .changed(known: plain)
    }

    /// Appends `[host]:port type key` to the first user file (created 0600 if missing)
    /// and remembers it for the rest of the run.
    func record(host: String, port: Int, keyType: String, keyBlob: [UInt8]) throws {
        guard let file = userFiles.first else { throw KnownHostsError(message: "no known_hosts file to record the key in") }
        let name = KnownHostEntry.lookupName(host: host, port: port)
        let line = "\(name) \(keyType) \(Base64.encode(keyBlob))\n"
        try entries.withLock { list in
            let dir = (file as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            let fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw KnownHostsError(message: "cannot write \(file): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            // A file whose last line has no newline must not have our entry glued onto it.
            var bytes = Array(line.utf8)
            let size = lseek(fd, 0, SEEK_END)
            if size > 0, let last = Self.lastByte(of: file), last != UInt8(ascii: "\n") {
                bytes.insert(UInt8(ascii: "\n"), at: 0)
            }
            guard write(fd, bytes, bytes.count) == bytes.count else {
                throw KnownHostsError(message: "cannot write \(file): \(String(cString: strerror(errno)))")
            }
            list.add(
                KnownHostEntry(
                    marker: .none, names: .patterns([name]), keyType: keyType,
                    keyBlob: keyBlob, origin: "\(file) (recorded by this run)"))
        }
    }

    private static func lastByte(of file: String) -> UInt8? {
        guard let h = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? h.close() }
        guard let end = try? h.seekToEnd(), end > 0 else { return nil }
        try? h.seek(toOffset: end - 1)
        return (try? h.read(upToCount: 1))?.first
    }

    struct KnownHostsError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// known_hosts entries in file order, with the lines that name hosts literally (most of
/// them) indexed by name: a lookup reads those directly and scans only the hashed,
/// wildcard and negated lines, instead of every line for every connection.
struct KnownHostsIndex: Sendable {
    private var all: [KnownHostEntry] = []
    private var byName: [String: [Int]] = [:]
    private var scanned: [Int] = []

    mutating func add(_ entry: KnownHostEntry) {
        let i = all.count
        all.append(entry)
        if case .patterns(let names) = entry.names,
            !names.contains(where: { $0.contains(where: { "*?!".contains($0) }) })
        {
            for n in Set(names) { byName[n, default: []].append(i) }
        } else {
            scanned.append(i)
        }
    }

    /// Every entry that names `lookupName`, in file order.
    func candidates(_ lookupName: String) -> [KnownHostEntry] {
        let hits = (byName[lookupName] ?? []) + scanned.filter { all[$0].matches(lookupName) }
        return hits.sorted().map { all[$0] }
    }
}

/// OpenSSH-style wildcard matching: `*` any run, `?` one character.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        // Most names are literal (`[127.0.0.1]:2222`), and every connection checks every
        // entry: compare their bytes without building the scalar arrays.
        if !pattern.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }) {
            return pattern.utf8.elementsEqual(text.utf8)
        }
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        var pi = 0, ti = 0, starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                starP = pi; starT = ti; pi += 1
            } else if starP >= 0 {
                pi = starP + 1; starT += 1; ti = starT
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
