/// Python's `shlex.split` (POSIX mode), which Ansible uses to cut INI host lines
/// (`comments: true`) and `ansible_ssh_common_args` and its siblings (`comments: false`)
/// into words: blanks separate, quotes group and are removed, a backslash escapes outside
/// single quotes, and with comments `#` outside quotes ends the line, even mid-word
/// (`url=http://x/#top` is `url=http://x/`, as in Ansible).
public enum Shlex {
    public struct Problem: Error, Equatable { public let message: String }

    public static func split(_ line: String, comments: Bool) throws(Problem) -> [String] {
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false  // true once a word has begun, even an empty quoted one
        var it = Array(line.unicodeScalars)[...]
        while let c = it.popFirst() {
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(String(word)); word = .init(); inWord = false }
            case "#" where comments:
                if inWord { words.append(String(word)) }
                return words
            case "'":
                inWord = true
                guard let end = it.firstIndex(of: "'") else { throw Problem(message: "no closing quotation") }
                word.append(contentsOf: it[..<end])
                it = it[(end + 1)...]
            case "\"":
                inWord = true
                var closed = false
                while let d = it.popFirst() {
                    if d == "\"" { closed = true; break }
                    // Inside double quotes a backslash escapes only `"` and `\`.
                    if d == "\\", let n = it.first, n == "\"" || n == "\\" { word.append(n); it.removeFirst(); continue }
                    word.append(d)
                }
                if !closed { throw Problem(message: "no closing quotation") }
            case "\\":
                guard let n = it.popFirst() else { throw Problem(message: "no escaped character after \"\\\"") }
                inWord = true
                word.append(n)
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(String(word)) }
        return words
    }
}
