/// A problem in an ssh_config file, or in the ssh arguments a host's inventory variables give:
/// where it is, and what was expected. Reads `file:line: problem` for files and
/// `host web1: ansible_ssh_common_args: problem` for variables; the CLI turns it into a
/// FleetConfig `ConfigError` (bad input, exit 2). Warnings use the same shape.
public struct SSHConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is.
    public enum Source: Sendable, Hashable {
        /// An ssh_config file (as it was named: `~/.ssh/config` expanded), and the 1-based line.
        case file(String, line: Int?)
        /// An inventory variable of one host (`ansible_ssh_common_args`, `ansible_port`).
        case variable(String, host: String)
    }

    public var source: Source
    /// What is wrong, in lower case, saying what was expected.
    public var message: String

    public init(_ source: Source, _ message: String) {
        self.source = source
        self.message = message
    }

    init(file: String, line: Int?, _ message: String) {
        self.init(.file(file, line: line), message)
    }

    public var description: String {
        switch source {
        case .file(let file, let line?): return "\(file):\(line): \(message)"
        case .file(let file, nil): return "\(file): \(message)"
        case .variable(let name, let host): return "host \(host): \(name): \(message)"
        }
    }
}

/// Where one setting came from, so problems found later (an unknown `%` token, an
/// unsupported ProxyCommand) name the line that set it.
struct SSHConfigOrigin: Sendable, Hashable, CustomStringConvertible {
    var source: SSHConfigError.Source

    static func file(_ path: String, line: Int) -> SSHConfigOrigin { .init(source: .file(path, line: line)) }
    static func variable(_ name: String, host: String) -> SSHConfigOrigin { .init(source: .variable(name, host: host)) }
    /// A fleetup flag (`--known-hosts`): never the source of a problem the operator must fix
    /// in a file, but named for completeness.
    static func flag(_ name: String) -> SSHConfigOrigin { .init(source: .file(name, line: nil)) }

    func error(_ message: String) -> SSHConfigError { SSHConfigError(source, message) }

    var description: String {
        switch source {
        case .file(let f, let l?): return "\(f):\(l)"
        case .file(let f, nil): return f
        case .variable(let n, let h): return "host \(h): \(n)"
        }
    }
}
