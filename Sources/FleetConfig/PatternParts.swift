import Foundation

/// Shell globs as Python's `fnmatch.translate` reads them (Ansible matches names with it):
/// `*`, `?`, `[abc]`, `[!abc]`, `[a-z]`; an unclosed `[` is a literal; case matters.
enum Glob {
    static func regex(_ pattern: String) throws -> NSRegularExpression {
        let p = Array(pattern)
        var out = ""
        var i = 0
        while i < p.count {
            let c = p[i]
            i += 1
            switch c {
            case "*":
                if !out.hasSuffix(".*") { out += ".*" }
            case "?":
                out += "."
            case "[":
                var j = i
                if j < p.count && p[j] == "!" { j += 1 }
                if j < p.count && p[j] == "]" { j += 1 }
                while j < p.count && p[j] != "]" { j += 1 }
                if j >= p.count { out += "\\["; continue }
                var stuff = String(p[i..<j]).replacingOccurrences(of: "\\", with: "\\\\")
                i = j + 1
                if stuff.hasPrefix("!") {
                    stuff = "^" + stuff.dropFirst()
                } else if stuff.hasPrefix("^") || stuff.hasPrefix("[") {
                    stuff = "\\" + stuff
                }
                // ICU reads `[` and `&&` inside a class as set operations; Python does not.
                stuff = stuff.replacingOccurrences(of: "[", with: "\\[").replacingOccurrences(of: "&", with: "\\&")
                out += "[" + stuff + "]"
            default:
                out += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        do { return try NSRegularExpression(pattern: "(?s:" + out + ")\\z") } catch {
            throw ConfigError(file: "--limit", "invalid glob \"\(pattern)\"")
        }
    }
}

/// A term's `[n]`, `[a:b]` or `[a:]` suffix (Ansible's PATTERN_WITH_SUBSCRIPT).
enum PatternSubscript {
    /// (start, end): end nil picks one host; end -1 runs to the last host.
    typealias Slice = (start: Int, end: Int?)

    static func split(_ term: String, label: String) throws -> (String, Slice?) {
        guard !term.hasPrefix("~"), term.hasSuffix("]"), let open = term.lastIndex(of: "["),
            open != term.startIndex
        else { return (term, nil) }
        let inner = term[term.index(after: open)..<term.index(before: term.endIndex)]
        let expr = String(term[..<open])
        let digits = { (s: Substring) in !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        if let sep = inner.firstIndex(where: { $0 == ":" || $0 == "-" }), sep != inner.startIndex {
            let a = inner[..<sep], b = inner[inner.index(after: sep)...]
            guard digits(a), b.isEmpty || digits(b) else { return (term, nil) }
            guard let start = Int(a), let end = b.isEmpty ? -1 : Int(b) else {
                throw ConfigError(file: label, "subscript of \"\(term)\" is too large")
            }
            return (expr, (start, end))
        }
        let body = inner.hasPrefix("-") ? inner.dropFirst() : inner
        guard digits(body) else { return (term, nil) }
        guard let n = Int(inner) else { throw ConfigError(file: label, "subscript of \"\(term)\" is too large") }
        return (expr, (n, nil))
    }

    /// Python's `hosts[start:end + 1]`, or `[hosts[start]]` when end is nil or 0 (as Ansible's
    /// code does). Unlike Ansible, a slice past the end is an error rather than no hosts.
    static func apply(_ slice: Slice?, to hosts: [String], term: String, label: String) throws -> [String] {
        guard let slice, !hosts.isEmpty else { return hosts }
        if let end = slice.end, end != 0 {
            let last = end == -1 ? hosts.count - 1 : end
            guard slice.start < hosts.count, slice.start <= last else {
                throw ConfigError(
                    file: label,
                    "\"\(term)\" selects nothing: the term matches \(hosts.count) host\(hosts.count == 1 ? "" : "s") (indexes start at 0)")
            }
            return Array(hosts[slice.start...min(last, hosts.count - 1)])
        }
        let i = slice.start < 0 ? hosts.count + slice.start : slice.start
        guard hosts.indices.contains(i) else {
            throw ConfigError(
                file: label,
                "\"\(term)\" is out of range: the term matches \(hosts.count) host\(hosts.count == 1 ? "" : "s") (indexes start at 0)")
        }
        return [hosts[i]]
    }
}
