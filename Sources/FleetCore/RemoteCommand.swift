/// A command to run on a host: what is sent, and what humans are shown.
public struct RemoteCommand: Sendable, Hashable {
    /// The shell text the remote login shell runs (may contain secrets).
    public var script: String
    /// The same command as output, reports and journals show it (secrets replaced).
    public var display: String
    /// Bytes written to the command's stdin before EOF is sent.
    public var stdin: [UInt8]
    /// Ends the command (TERM to its process group, then the channel is closed) when reached.
    public var timeout: Duration?
    /// How many bytes of stdout and of stderr to keep (the tail); totals are always counted.
    public var outputLimit: Int
    /// Run as another user through sudo (Ansible's become), or as the login user when nil.
    public var become: Become?

    public static let defaultOutputLimit = 64 * 1024

    public init(
        _ script: String, display: String? = nil, stdin: [UInt8] = [],
        timeout: Duration? = nil, outputLimit: Int = RemoteCommand.defaultOutputLimit,
        become: Become? = nil
    ) {
        self.script = script
        self.display = display ?? script
        self.stdin = stdin
        self.timeout = timeout
        self.outputLimit = outputLimit
        self.become = become
    }
}

/// Privilege escalation for one command: `sudo -u user`, with the password (if sudo asks for
/// one) sent on the command's stdin when sudo prompts, never on a command line.
public struct Become: Sendable, Hashable {
    /// The user to become (Ansible's `become_user`; root by default).
    public var user: String
    /// The sudo password; nil when sudo needs none (NOPASSWD).
    public var password: Secret?

    public init(user: String = "root", password: Secret? = nil) {
        self.user = user
        self.password = password
    }
}

/// POSIX shell quoting: the one place fleetup turns a value into a shell word.
public enum ShellQuote {
    /// `value` as a single word for `sh`: unchanged when it only holds safe characters,
    /// otherwise in single quotes with each `'` written as `'\''`.
    public static func quote(_ value: String) -> String {
        if !value.isEmpty, value.utf8.allSatisfy(isSafe) { return value }
        var quoted = "'"
        for ch in value {
            if ch == "'" { quoted += #"'\''"# } else { quoted.append(ch) }
        }
        return quoted + "'"
    }

    /// Several words, each quoted, joined by spaces.
    public static func join(_ words: [String]) -> String { words.map(quote).joined(separator: " ") }

    private static func isSafe(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "@%+=:,./-_".utf8.contains(c)
        }
    }
}
