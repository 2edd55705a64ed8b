import FleetCore
import FleetLocal
import Foundation

/// What ssh_config resolution reads from the machine: the local user, the home folder
/// (from the password database, as OpenSSH takes it, not `$HOME`), the host name, the
/// environment, and files. Tests give their own.
public struct SSHConfigEnvironment: Sendable {
    public var home: String
    public var localUser: String
    public var userID: UInt32
    /// `gethostname()`: `%l`; `%L` is its part before the first dot.
    public var localHostname: String
    public var variables: [String: String]
    /// `/etc/ssh`: the system file (`ssh_config`) and where its relative Includes point.
    public var systemDirectory: String
    public var files: SSHConfigFileSystem

    public init(
        home: String, localUser: String, userID: UInt32, localHostname: String,
        variables: [String: String] = [:], systemDirectory: String = "/etc/ssh",
        files: SSHConfigFileSystem = .local
    ) {
        self.home = home
        self.localUser = localUser
        self.userID = userID
        self.localHostname = localHostname
        self.variables = variables
        self.systemDirectory = systemDirectory
        self.files = files
    }

    /// The process's own.
    public static var current: SSHConfigEnvironment {
        let uid = getuid()
        var home = NSHomeDirectory(), user = ProcessInfo.processInfo.environment["USER"] ?? "root"
        if let pw = getpwuid(uid) {
            if let d = pw.pointee.pw_dir { home = String(cString: d) }
            if let n = pw.pointee.pw_name { user = String(cString: n) }
        }
        var name = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return SSHConfigEnvironment(
            home: home, localUser: user, userID: uid, localHostname: host,
            variables: ProcessInfo.processInfo.environment)
    }

    /// `~/.ssh/config`.
    public var userConfigFile: String { home + "/.ssh/config" }
    /// `/etc/ssh/ssh_config`.
    public var systemConfigFile: String { systemDirectory + "/ssh_config" }
}

/// File access for ssh_config reading: the real files, or a table in tests.
public struct SSHConfigFileSystem: Sendable {
    /// A file's text with its owner and mode, or why there is none.
    public enum Read: Sendable {
        case text(String, owner: UInt32, mode: UInt32)
        case missing
        case failed(String)
    }

    public var read: @Sendable (String) -> Read
    /// Paths matching a glob, sorted (`*`, `?`, `[...]`; no `~`: expanded before).
    public var glob: @Sendable (String) -> [String]
    public var exists: @Sendable (String) -> Bool

    public init(
        read: @escaping @Sendable (String) -> Read, glob: @escaping @Sendable (String) -> [String],
        exists: @escaping @Sendable (String) -> Bool
    ) {
        self.read = read
        self.glob = glob
        self.exists = exists
    }

    /// The largest ssh_config file read.
    public static let maxBytes = 16 << 20

    public static let local = SSHConfigFileSystem(
        read: { path in
            var st = stat()
            guard stat(path, &st) == 0 else {
                return errno == ENOENT || errno == ENOTDIR ? .missing : .failed(String(cString: strerror(errno)))
            }
            guard (st.st_mode & S_IFMT) == S_IFREG else { return .failed("not a regular file") }
            // Bounded like every input file (OpenSSH's own configs are a few KB).
            guard let data = try? InputFile.read(path, limit: SSHConfigFileSystem.maxBytes) else {
                return .failed("cannot read it, or it is larger than \(InputFile.sizeText(SSHConfigFileSystem.maxBytes))")
            }
            return .text(String(decoding: data, as: UTF8.self), owner: st.st_uid, mode: UInt32(st.st_mode))
        },
        glob: { pattern in
            var g = glob_t()
            defer { globfree(&g) }
            guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
            return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
        },
        exists: { FileManager.default.fileExists(atPath: $0) })

    /// Files from a table (path → text), owned by `owner` with mode 0644; globs match with
    /// OpenSSH's `*` and `?` over whole paths.
    public static func memory(_ files: [String: String], owner: UInt32 = getuid()) -> SSHConfigFileSystem {
        SSHConfigFileSystem(
            read: { files[$0].map { .text($0, owner: owner, mode: 0o100644) } ?? .missing },
            glob: { pattern in files.keys.filter { Glob.matches(pattern, $0) }.sorted() },
            exists: { files[$0] != nil })
    }
}
