import FleetCore

/// INI inventory values are typed the way Ansible types them: with Python's
/// `ast.literal_eval`, falling back to the plain text when that fails. This is the
/// subset of Python literals that can appear there: numbers, strings (adjacent ones
/// concatenated), `True`/`False`/`None`, lists, tuples (`1, 2` too), dicts and sets.
///
/// A complex number becomes the text Python's `str` gives it (`1j`, `(2+3j)`), as Ansible's
/// JSON writer does; a bytes literal (`b'x'`) becomes unsafe text (`{"__ansible_unsafe": …}`
/// in `--list`). Integers beyond 64 bits stay as text (see docs/inventory.md).
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
        /// The imaginary part of the imaginary literal (`3j`) just read, for a sign before it
        /// or a real number added to it (`2+3j`); nil after anything else.
        var imaginary: Double? = nil
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
                imaginary = nil
                // The sign binds to the number alone: -2+3j is (-2)+3j.
                let operand = peek.map { $0.properties.numericType != nil || $0 == "." } == true ? number() : expression()
                guard let v = operand, !signed else { return nil }
                signed = true
                if let im = imaginary {
                    // -3j is -(0+3j): Python's complex(-0.0, -3.0).
                    imaginary = nil
                    return .string(PythonLiteral.complexText(re: c == "-" ? -0.0 : 0.0, im: c == "-" ? -im : im))
                }
                switch v {
                case .int(let n): return complexSum(c == "-" ? (n == Int.min ? nil : .int(-n)) : .int(n))
                case .double(let d): return complexSum(.double(c == "-" ? -d : d))
                default: return nil
                }
            default:
                if c == "." && i + 2 < s.count && s[i + 1] == "." && s[i + 2] == "." { i += 3; return .string("...") }
                if c.properties.numericType != nil || c == "." {
                    guard let v = number() else { return nil }
                    return imaginary == nil ? complexSum(v) : v
                }
                return name()
            }
        }

        /// `2+3j`, `-1.5-2j`: a real number plus or minus an imaginary literal, the one
        /// arithmetic literal_eval allows; anything else leaves `left` as it was.
        mutating func complexSum(_ left: VarValue?) -> VarValue? {
            guard let left else { return nil }
            let re: Double
            switch left {
            case .int(let n): re = Double(n)
            case .double(let d): re = d
            default: return left
            }
            let save = i
            skipSpace()
            guard let op = peek, op == "+" || op == "-" else { i = save; return left }
            i += 1
            skipSpace()
            guard let c = peek, c.properties.numericType != nil || c == "." else { i = save; return left }
            imaginary = nil
            _ = number()
            guard let im = imaginary else { i = save; return left }
            imaginary = nil
            // int/float ± complex(0.0, im), as Python computes it: the left side's imaginary
            // part is 0 (so 2-0j has +0.0), its real part meets the literal's 0.0.
            let real = op == "-" ? re - 0.0 : re + 0.0
            return .string(PythonLiteral.complexText(re: real, im: op == "-" ? 0.0 - im : 0.0 + im))
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
            if raw.hasSuffix("j") || raw.hasSuffix("J") {
                guard let im = PythonLiteral.imaginary(raw) else { return nil }
                imaginary = im
                return .string(PythonLiteral.complexText(re: 0, im: im))
            }
            imaginary = nil
            return PythonLiteral.number(raw)
        }

        /// One or more adjacent string literals, concatenated.
        /// Bytes (`b'x'`) are unsafe text, as Ansible marks them; bytes and text side by side
        /// are an error in Python (the literal stays text), and so are bytes beyond ASCII.
        mutating func strings() -> VarValue? {
            var out = ""
            var pieces = 0, bytePieces = 0
            while true {
                skipSpace()
                let save = i
                var raw = false, bytes = false
                while let c = peek, "rRbBuU".unicodeScalars.contains(c) {
                    if c == "r" || c == "R" { raw = true }
                    if c == "b" || c == "B" { bytes = true }
                    i += 1
                }
                guard let q = peek, q == "'" || q == "\"" else { i = save; break }
                let start = i
                guard let piece = quoted(q, raw: raw) else { return nil }
                if bytes && !s[start..<i].allSatisfy(\.isASCII) { return nil }
                out += piece
                pieces += 1
                if bytes { bytePieces += 1 }
            }
            guard pieces > 0, bytePieces == 0 || bytePieces == pieces else { return nil }
            return bytePieces > 0 ? .unsafe(out) : .string(out)
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

    /// An imaginary literal's value (`3j`, `1.5J`, `1e3j`: a decimal or float, then j).
    static func imaginary(_ raw: String) -> Double? {
        let digits = String(raw.dropLast())
        guard !digits.isEmpty, !digits.lowercased().hasPrefix("0x"), !digits.lowercased().hasPrefix("0o"),
            !digits.lowercased().hasPrefix("0b")
        else { return nil }
        switch number(digits) {
        case .int(let n): return Double(n)
        case .double(let d): return d
        default:
            // 0123j is a valid imaginary literal (a float's digits), though 0123 is no int.
            let t = digits.replacingOccurrences(of: "_", with: "")
            return t.allSatisfy(\.isNumber) ? Double(t) : nil
        }
    }

    /// Python's `str(complex(re, im))`: `1j`, `(2+3j)`, `(-0-1j)`; the parts as `repr` writes
    /// floats, without a trailing `.0`.
    static func complexText(re: Double, im: Double) -> String {
        func part(_ d: Double) -> String {
            if d.isNaN { return "nan" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            let t = PythonJSON.float(d)
            return t.hasSuffix(".0") ? String(t.dropLast(2)) : t
        }
        if re == 0 && re.sign == .plus { return part(im) + "j" }
        return "(" + part(re) + (im.sign == .minus ? "-" : "+") + part(abs(im)) + "j)"
    }

    /// Python number literals: 10, 1_000, 0x1F, 0o17, 0b101, 1.5, .5, 1e3, 1E-2.
    static func number(_ raw: String) -> VarValue? {
        let lower = raw.lowercased()
        if lower.hasSuffix("j") { return nil }  // imaginary: `imaginary(_:)`
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
