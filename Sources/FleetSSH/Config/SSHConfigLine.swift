/// One line of an ssh_config file cut the way OpenSSH 9.2's `readconf.c` cuts it: the
/// keyword ends at a blank or `=` (one `=` with blanks around it may separate it from the
/// value), and the rest is split by `argv_split`: blanks separate, double or single quotes
/// group (and may start mid-word: `a"b c"` is `ab c`), a backslash escapes a quote, a
/// backslash or (outside quotes) a blank, and a `#` at the start of a word ends the line.
struct SSHConfigLine: Sendable, Hashable {
    /// The keyword in lower case (keywords are case-insensitive).
    var keyword: String
    /// The arguments, quotes removed.
    var arguments: [String]
    /// The text after the keyword (and its `=`), as written: ProxyCommand takes it whole.
    var rest: String

    struct Problem: Error, Equatable { var message: String }

    private static let blanks: Set<Character> = [" ", "\t", "\r", "\n", "\u{0C}"]

    /// Nil for a blank line or a comment.
    static func parse(_ line: Substring) throws(Problem) -> SSHConfigLine? {
        var text = line
        while let last = text.last, blanks.contains(last) { text = text.dropLast() }
        text = text.drop { blanks.contains($0) }
        guard let first = text.first, first != "#" else { return nil }
        let end = text.firstIndex { blanks.contains($0) || $0 == "=" || $0 == "\"" } ?? text.endIndex
        let keyword = text[..<end].lowercased()
        guard !keyword.isEmpty else { throw Problem(message: "expected a keyword at the start of the line") }
        var rest = text[end...].drop { $0 == " " || $0 == "\t" }
        if rest.first == "=" { rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" } }
        guard !rest.isEmpty else { throw Problem(message: "no argument after keyword \"\(keyword)\"") }
        let arguments = try split(rest)
        return SSHConfigLine(keyword: keyword, arguments: arguments, rest: String(rest))
    }

    /// OpenSSH's `argv_split(s, ..., terminate_on_comment: true)`.
    static func split(_ text: Substring) throws(Problem) -> [String] {
        var words: [String] = []
        let s = Array(text)
        var i = 0
        while i < s.count {
            if s[i] == " " || s[i] == "\t" { i += 1; continue }
            if s[i] == "#" { break }
            var word = ""
            var quote: Character? = nil
            while i < s.count {
                let c = s[i]
                if c == "\\", i + 1 < s.count,
                    s[i + 1] == "'" || s[i + 1] == "\"" || s[i + 1] == "\\" || (quote == nil && s[i + 1] == " ")
                {
                    word.append(s[i + 1]); i += 2; continue
                }
                if quote == nil && (c == " " || c == "\t") { break }
                if quote == nil && (c == "\"" || c == "'") {
                    quote = c
                } else if let q = quote, c == q {
                    quote = nil
                } else {
                    word.append(c)
                }
                i += 1
            }
            if quote != nil { throw Problem(message: "invalid quotes") }
            words.append(word)
        }
        return words
    }
}
