import FleetCore

/// INI inventory values are typed the way Ansible types them: with Python's
/// `ast.literal_eval`, falling back to the plain text when that fails. This is the
/// subset of Python literals that can appear there: numbers, strings (adjacent ones
/// concatenated), `True`/`False`/`None`, lists, tuples (`1, 2` too), dicts and sets.
///
/// Complex numbers and integers beyond 64 bits stay as text (see docs/inventory.md).
enum PythonLiteral {
    /// Lists, tuples, dicts and sets nested deeper than this are refused: Python's own
    /// parser stops at 200 ("too many nested parentheses"), and the parser here recurses
    /// once per level (25,000 `[` overflowed the stack).
    static let maxNesting = 200

    /// A value nesting brackets deeper than `maxNesting`.
    struct TooDeep: Error, Sendable {}

    /// The value `text` stands for, or nil when Python would not read it as a literal.
    static func parse(_ text: String) throws(TooDeep) -> VarValue? {
        var p = Parser(Array(text.unicodeScalars))
        p.skipSpace()  // literal_eval strips leading blanks itself
        let v = p.expressionList()
        if p.tooDeep { throw TooDeep() }
        guard let v, p.atEnd() else { return nil }
        return v
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        /// Brackets open around the current position.
        var depth = 0
        /// Set once `depth` passed `maxNesting`; every level then returns nil.
        var tooDeep = false
        /// Set by a sign, so that a signed operand (`--1`, `-(-1)`) is refused as Python's
        /// literal_eval refuses it.
        var signed = false
        init(_ s: [Unicode.Scalar]) { self.s = s }

        /// Enters one bracket level; false (and `tooDeep`) past `maxNesting`.
        mutating func enter() -> Bool {
            depth += 1
            if depth > PythonLiteral.maxNesting { tooDeep = true }
            return !tooDeep
        }

        var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

        mutating func skipSpace() {
            while let c = peek {
                if c == " " || c == "\t" || c == "\u{0C}" {
                    i += 1
                } else if c == "#" {
                    i = s.count
                }  // a comment runs to the end of the line
                else {
                    break
                }
            }
        }

        mutating func atEnd() -> Bool { skipSpace(); return i == s.count }

        mutating func eat(_ c: Unicode.Scalar) -> Bool {
            skipSpace()
            if peek == c { i += 1; return true }
            return false
        }

        /// `a, b` at the top level is a tuple, as in Python.
        mutating func expressionList() -> VarValue? {
            guard let first = expression() else { return nil }
            skipSpace()
            guard peek == "," else { return first }
            var items = [first]
            while eat(",") {
                skipSpace()
                if i == s.count { break }
                guard let v = expression() else { return nil }
                items.append(v)
            }
            return .list(items)
        }

        mutating func expression() -> VarValue? {
            skipSpace()
            guard let c = peek else { return nil }
            switch c {
            case "[", "(", "{":
                i += 1
                guard enter() else { return nil }
                defer { depth -= 1 }
                return c == "[" ? sequence(close: "]") : c == "(" ? sequence(close: ")") : braces()
            case "'", "\"": return strings()
            case "-", "+":
                // literal_eval takes a sign before a number only: not before another sign
                // (`--1`, `-(-1)`), a bool (`-True`) or anything else; those stay text.
                i += 1
                skipSpace()
                if peek == "-" || peek == "+" { return nil }  // before recursing: 100,000 signs
                signed = false
                guard let v = expression(), !signed else { return nil }
                signed = true
                switch v {
                case .int(let n): return c == "-" ? (n == Int.min ? nil : .int(-n)) : .int(n)
                case .double(let d): return .double(c == "-" ? -d : d)
                default: return nil
                }
            default:
                if c == "." && i + 2 < s.count && s[i + 1] == "." && s[i + 2] == "." { i += 3; return .string("...") }
                if c.properties.numericType != nil || c == "." { return number() }
                return name()
            }
        }

        mutating func sequence(close: Unicode.Scalar) -> VarValue? {
            var items: [VarValue] = []
            var sawComma = false
            while true {
                if eat(close) { break }
                if !items.isEmpty { guard eat(",") else { return nil }; sawComma = true; if eat(close) { break } }
                guard let v = expression() else { return nil }
                items.append(v)
            }
            // `(x)` is just x; `(x,)` and `()` are tuples.
            if close == ")" && items.count == 1 && !sawComma { return items[0] }
            return .list(items)
        }

        mutating func braces() -> VarValue? {
            if eat("}") { return .map([:]) }
            guard let first = expression() else { return nil }
            if eat(":") {
                var map: [String: VarValue] = [:]
                var key = first
                while true {
                    guard let v = expression() else { return nil }
                    map[PythonLiteral.keyText(key)] = v
                    if eat("}") { return .map(map) }
                    guard eat(",") else { return nil }
                    if eat("}") { return .map(map) }
                    guard let k = expression(), eat(":") else { return nil }
                    key = k
                }
            }
            // A set: Ansible turns it into a list, in Python's set order. For small integers
            // that is ascending; for strings it is hash order, random per Python run.
            var items = [first]
            while !eat("}") {
                guard eat(",") else { return nil }
                if eat("}") { break }
                guard let v = expression() else { return nil }
                if !items.contains(v) { items.append(v) }
            }
            let ints = items.compactMap { v -> Int? in if case .int(let i) = v { return i } else { return nil } }
            return .list(ints.count == items.count ? ints.sorted().map(VarValue.int) : items)
        }

        mutating func name() -> VarValue? {
            let start = i
            while let c = peek, c.properties.isAlphabetic || c == "_" || c.properties.numericType != nil { i += 1 }
            let word = String(String.UnicodeScalarView(s[start..<i]))
            skipSpace()
            // String prefixes: r'..', b'..', u'..' (and their pairs, rb/br).
            if let q = peek, q == "'" || q == "\"", ["r", "b", "u", "rb", "br"].contains(word.lowercased()) {
                i = start
                return strings()
            }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            case "set":
                if eat("("), eat(")") { return .list([]) }
                return nil
            default: return nil
            }
        }

        mutating func number() -> VarValue? {
            let start = i
            while let c = peek, c.isASCII,
                c.properties.isAlphabetic || c.properties.numericType != nil
                    || c == "." || c == "_"
                    || ((c == "+" || c == "-") && i > start && "eE".unicodeScalars.contains(s[i - 1])
                        && !String(String.UnicodeScalarView(s[start..<i])).lowercased().hasPrefix("0x"))
            {
                i += 1
            }
            let raw = String(String.UnicodeScalarView(s[start..<i]))
            return PythonLiteral.number(raw)
        }

        /// One or more adjacent string literals, concatenated.
        mutating func strings() -> VarValue? {
            var out = ""
            var any = false
            while true {
                skipSpace()
                let save = i
                var raw = false
                while let c = peek, "rRbBuU".unicodeScalars.contains(c) {
                    if c == "r" || c == "R" { raw = true }
                    i += 1
                }
                guard let q = peek, q == "'" || q == "\"" else { i = save; break }
                guard let piece = quoted(q, raw: raw) else { return nil }
                out += piece
                any = true
            }
            return any ? .string(out) : nil
        }

        mutating func quoted(_ q: Unicode.Scalar, raw: Bool) -> String? {
            let triple = i + 2 < s.count && s[i + 1] == q && s[i + 2] == q
            i += triple ? 3 : 1
            var out = String.UnicodeScalarView()
            while i < s.count {
                let c = s[i]
                if c == q {
                    if !triple { i += 1; return String(out) }
                    if i + 2 < s.count && s[i + 1] == q && s[i + 2] == q { i += 3; return String(out) }
                }
                if c == "\\" && i + 1 < s.count {
                    let n = s[i + 1]
                    if raw { out.append(c); out.append(n); i += 2; continue }
                    i += 2
                    switch n {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "\\", "'", "\"": out.append(n)
                    case "a": out.append("\u{07}")
                    case "b": out.append("\u{08}")
                    case "f": out.append("\u{0C}")
                    case "v": out.append("\u{0B}")
                    case "x", "u", "U":
                        let len = n == "x" ? 2 : (n == "u" ? 4 : 8)
                        guard i + len <= s.count,
                            let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + len)])), radix: 16),
                            let u = Unicode.Scalar(v)
                        else { return nil }
                        out.append(u)
                        i += len
                    case "0"..."7":
                        var v = n.value - 48, k = 0
                        while k < 2, i < s.count, ("0"..."7").contains(s[i]) { v = v * 8 + s[i].value - 48; i += 1; k += 1 }
                        guard let u = Unicode.Scalar(v) else { return nil }
                        out.append(u)
                    default: out.append(c); out.append(n)
                    }
                    continue
                }
                out.append(c)
                i += 1
            }
            return nil  // unterminated
        }
    }

    /// Python number literals: 10, 1_000, 0x1F, 0o17, 0b101, 1.5, .5, 1e3, 1E-2.
    static func number(_ raw: String) -> VarValue? {
        let lower = raw.lowercased()
        if lower.hasSuffix("j") { return nil }  // complex: left as text
        if lower.hasPrefix("_") || lower.hasSuffix("_") || lower.contains("__") { return nil }
        let t = lower.replacingOccurrences(of: "_", with: "")
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where t.hasPrefix(prefix) {
            return Int(t.dropFirst(2), radix: radix).map(VarValue.int)
        }
        if t.allSatisfy(\.isNumber) {
            // Python 3 refuses 007 (but allows 000).
            if t.count > 1 && t.hasPrefix("0") && t.contains(where: { $0 != "0" }) { return nil }
            return Int(t).map(VarValue.int)
        }
        guard t.contains(where: { $0 == "." || $0 == "e" }), t.first != "e",
            t.allSatisfy({ $0.isNumber || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-" })
        else { return nil }
        return Double(t).map(VarValue.double)
    }

    /// How Python's json module writes a non-string dict key.
    static func keyText(_ v: VarValue) -> String {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .int(let i): return String(i)
        case .double(let d): return PythonJSON.float(d)
        default: return PythonJSON.render(v, indent: nil)
        }
    }
}
