import Foundation

/// ssh_config's expansions: `%` tokens, `${NAME}` environment variables and `~`.
enum SSHTokens {
    struct Problem: Error, Equatable { var message: String }

    /// Expands `%x` tokens from `table` and, when `environment` is given, `${NAME}`
    /// variables, in one pass left to right as OpenSSH's `percent_dollar_expand` does
    /// (a value is never expanded again). An unknown token or variable is an error.
    static func expand(
        _ text: String, _ table: [Character: String],
        environment: [String: String]? = nil
    ) throws(Problem) -> String {
        guard text.contains("%") || (environment != nil && text.contains("${")) else { return text }
        var out = ""
        var it = Array(text)[...]
        while let c = it.popFirst() {
            if c == "$", let environment, it.first == "{" {
                out += try takeVariable(&it, environment, in: text)
            } else if c == "%" {
                guard let key = it.popFirst() else {
                    throw Problem(message: "a lone % at the end of \"\(text)\" (write %% for a percent sign)")
                }
                if key == "%" { out.append("%"); continue }
                guard let value = table[key] else {
                    let known = table.keys.sorted().map { "%\($0)" }.joined(separator: " ")
                    throw Problem(message: "unknown token %\(key) in \"\(text)\" (here: %% \(known))")
                }
                out += value
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// `${NAME}` only (OpenSSH's `dollar_expand`).
    static func expandEnvironment(_ text: String, _ environment: [String: String]) throws(Problem) -> String {
        var out = ""
        var it = Array(text)[...]
        while let c = it.popFirst() {
            if c == "$", it.first == "{" {
                out += try takeVariable(&it, environment, in: text)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// The value of the `{NAME}` at the front of `it` (just after a `$`), consumed.
    private static func takeVariable(
        _ it: inout ArraySlice<Character>, _ environment: [String: String],
        in text: String
    ) throws(Problem) -> String {
        guard let close = it.firstIndex(of: "}") else { throw Problem(message: "unterminated ${ in \"\(text)\"") }
        let name = String(it[it.index(after: it.startIndex)..<close])
        guard isEnvironmentName(name[...]) else { throw Problem(message: "invalid environment name \"\(name)\" in \"\(text)\"") }
        guard let value = environment[name] else { throw Problem(message: "environment variable \(name) is not set (in \"\(text)\")") }
        it = it[(close + 1)...]
        return value
    }

    /// Letters, digits and `_`, not starting with a digit.
    static func isEnvironmentName(_ s: Substring) -> Bool {
        guard let first = s.first, !first.isASCIIDigit else { return false }
        return s.allSatisfy { $0 == "_" || $0.isASCIIDigit || ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
    }

    /// `~` and `~/x` are the home folder; `~user/x` is that user's.
    static func expandTilde(_ path: String, home: String) throws(Problem) -> String {
        guard path.hasPrefix("~") else { return path }
        let slash = path.firstIndex(of: "/") ?? path.endIndex
        let name = path[path.index(after: path.startIndex)..<slash]
        let base: String
        if name.isEmpty {
            base = home
        } else if let pw = getpwnam(String(name)), let dir = pw.pointee.pw_dir {
            base = String(cString: dir)
        } else {
            throw Problem(message: "no such user \"\(name)\" in \"\(path)\"")
        }
        let rest = path[slash...]
        return base == "/" && rest.hasPrefix("/") ? String(rest) : base + rest
    }
}
