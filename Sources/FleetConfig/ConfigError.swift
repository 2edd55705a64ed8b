/// A problem in an input file (inventory, playbook) or in a value given on the command
/// line: where it is, and what was expected. Reads `file:line: problem`.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, or a label such as `--limit` or `-i` for values from the command line.
    public var file: String
    /// 1-based line, when the problem has one.
    public var line: Int?
    /// What is wrong, in lower case, saying what was expected.
    public var message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Several problems found in one pass, listed one per line (`check` shows them all).
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Something Ansible accepts with a warning, and so does fleetup: the inventory still loads,
/// and the CLI prints `warning: file:line: problem` on stderr.
public struct ConfigWarning: Sendable, Hashable, CustomStringConvertible {
    /// Where, and what: the same shape as an error, without stopping the load.
    public var problem: ConfigError

    public init(file: String, line: Int? = nil, _ message: String) {
        problem = ConfigError(file: file, line: line, message)
    }

    public var file: String { problem.file }
    public var line: Int? { problem.line }
    public var message: String { problem.message }
    public var description: String { problem.description }
}
