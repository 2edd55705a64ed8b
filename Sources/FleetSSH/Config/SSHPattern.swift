/// OpenSSH's pattern rules (`match.c`), as ssh_config uses them.
enum SSHPattern {
    /// A `Host` line: the words are single patterns (a comma is an ordinary character),
    /// matched case-sensitively against the name as given; any matching `!pattern`
    /// excludes the host, whatever else matches.
    static func hostLine(_ patterns: [String], matches host: String) -> Bool {
        var matched = false
        for p in patterns {
            if p.hasPrefix("!") {
                if Glob.matches(String(p.dropFirst()), host) { return false }
            } else if Glob.matches(p, host) {
                matched = true
            }
        }
        return matched
    }

    /// The result of `match_pattern_list`.
    enum ListMatch: Equatable { case positive, negated, none }

    /// A comma-separated pattern list (`Match host a,*.b,!c`): a negated match wins; with
    /// `lowercase` both sides are compared in lower case (host names), otherwise exactly
    /// (user names).
    static func list(_ list: String, _ text: String, lowercase: Bool) -> ListMatch {
        let subject = lowercase ? text.lowercased() : text
        var result = ListMatch.none
        for raw in list.split(separator: ",", omittingEmptySubsequences: false) {
            var p = lowercase ? raw.lowercased() : String(raw)
            let negated = p.hasPrefix("!")
            if negated { p.removeFirst() }
            if Glob.matches(p, subject) {
                if negated { return .negated }
                result = .positive
            }
        }
        return result
    }
}
