/// Whether a command's text is one call of a shell builtin that starts no process and
/// cannot change the shell that runs it, so the persistent shell may run it in itself
/// instead of in a subshell (`RemoteShell.Mode.shell`): a health probe like
/// `test -f /run/app/ready` or a step like `printf '%s\n' 2.1.0 > VERSION` then costs its
/// host no fork.
///
/// The rule is a whitelist, on the text's bytes:
/// - the command is `true`, `false`, `:`, `echo`, `printf` (whose first argument does not
///   start with `-`: `printf -v` would assign a variable), `test` or `[`;
/// - every word is made of letters, digits and `_ . / : = , + % @ ] ! -`, and of single-quoted
///   strings (no expansion of any kind: no `$`, no backquote, no glob, no `~`, no braces,
///   no double quotes, no backslash outside single quotes);
/// - `test` and `[` without `-v` or `-R` (which evaluate an array subscript: a command
///   substitution or an assignment in the shell);
/// - redirections are `>` or `>>` to such a word, or `>&1`, `>&2`, each on fd 1 or 2 (fd 3
///   is the shell's own), never into `/dev/` (but `/dev/null`), `/proc/`, or through `..`
///   (`/dev/fd/N` would be one of the shell's own descriptors, its requests among them);
///   no input redirection: none of these builtins reads its stdin;
/// - nothing else: no `;`, `&`, `|`, `(`, `#`, and only blank lines after the command.
enum ShellBuiltin {
    static let names: Set<String> = ["true", "false", ":", "echo", "printf", "test", "["]

    /// True when `text` is such a call.
    static func runsInShell(_ text: String) -> Bool { runsInShell(Array(text.utf8)) }

    /// True when the text of these bytes is such a call.
    static func runsInShell(_ text: [UInt8]) -> Bool {
        guard let kept = content(text) else { return false }
        let bytes = Array(text[kept])
        var i = 0
        var values: [[UInt8]] = []
        while i < bytes.count {
            if isBlank(bytes[i]) {
                i += 1
                continue
            }
            if let end = redirection(bytes, at: i) {
                i = end
                continue
            }
            guard let (value, end) = word(bytes, at: i) else { return false }
            values.append(value)
            i = end
        }
        guard let first = values.first, names.contains(String(decoding: first, as: UTF8.self)) else { return false }
        if first == Array("printf".utf8), let argument = values.dropFirst().first, argument.first == UInt8(ascii: "-") {
            return false
        }
        if first == Array("test".utf8) || first == Array("[".utf8),
            values.contains(where: { $0 == Array("-v".utf8) || $0 == Array("-R".utf8) })
        {
            return false
        }
        return true
    }

    /// `text` without the blanks and newlines around it (what follows `builtin `).
    static func trimmed(_ text: String) -> String {
        let bytes = Array(text.utf8)
        return content(bytes).map { String(decoding: bytes[$0], as: UTF8.self) } ?? ""
    }

    /// Where the bytes are other than the blanks and newlines around them (nil: none are).
    private static func content(_ bytes: [UInt8]) -> ClosedRange<Int>? {
        let isSpace = { (b: UInt8) in b == UInt8(ascii: "\n") || isBlank(b) }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return nil
        }
        return first...last
    }

    private static func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }

    private static func isPlain(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("_./:=,+%@]!-".utf8).contains(b)
        }
    }

    /// A word at `i`: its value (quotes removed) and where it ends; nil when a byte outside
    /// the whitelist is in it. A lone `[` is a word too (the command `[`).
    private static func word(_ bytes: [UInt8], at start: Int) -> ([UInt8], Int)? {
        if bytes[start] == UInt8(ascii: "["), start + 1 == bytes.count || isBlank(bytes[start + 1]) {
            return ([UInt8(ascii: "[")], start + 1)
        }
        var value: [UInt8] = []
        var i = start
        while i < bytes.count, !isBlank(bytes[i]) {
            let b = bytes[i]
            if b == UInt8(ascii: "'") {
                guard let close = bytes[(i + 1)...].firstIndex(of: b) else { return nil }
                value += bytes[(i + 1)..<close]
                i = close + 1
            } else if isPlain(b) {
                value.append(b)
                i += 1
            } else if b == UInt8(ascii: ">") || b == UInt8(ascii: "<") {
                // Digits right before it name a file descriptor (`3>x`): only 0–2 are
                // allowed, and those `redirection` took.
                if bytes[start..<i].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) { return nil }
                break
            } else {
                return nil
            }
        }
        return i > start ? (value, i) : nil
    }

    /// A redirection at `i` (an optional fd 1 or 2, then `>` or `>>` and a word, or `>&1`,
    /// `>&2`): where it ends, or nil when there is none there or it is not allowed.
    private static func redirection(_ bytes: [UInt8], at start: Int) -> Int? {
        var i = start
        if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "1") || bytes[i] == UInt8(ascii: "2"), bytes[i + 1] == UInt8(ascii: ">") {
            i += 1
        }
        guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else { return nil }
        i += 1
        if i < bytes.count, bytes[i] == UInt8(ascii: "&") {
            guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "1") || bytes[i + 1] == UInt8(ascii: "2"),
                i + 2 == bytes.count || isBlank(bytes[i + 2]) || bytes[i + 2] == UInt8(ascii: "\n")
            else { return nil }
            return i + 2
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ">") { i += 1 }
        while i < bytes.count, isBlank(bytes[i]) { i += 1 }
        guard i < bytes.count, bytes[i] != UInt8(ascii: "["), let (target, end) = word(bytes, at: i), isPlainFile(target) else {
            return nil
        }
        return end
    }

    /// A redirection's target that is a file of its own: not under `/dev/` (but
    /// `/dev/null`) or `/proc/`, and no `..` in its path.
    private static func isPlainFile(_ path: [UInt8]) -> Bool {
        let text = String(decoding: path, as: UTF8.self)
        if text == "/dev/null" { return true }
        if text.hasPrefix("/dev/") || text.hasPrefix("/proc/") { return false }
        return !text.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }
}
