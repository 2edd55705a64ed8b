import FleetCore

/// JSON text exactly as Python's `json.dumps(x, sort_keys=True, indent=4)` writes it,
/// which is what `ansible-inventory` prints: keys sorted by code point, text as UTF-8 (its
/// encoder does not escape `é`), control characters as `\u0001`, floats as Python's
/// `repr`, `Infinity`/`NaN` for the non-finite ones.
/// Byte-for-byte equal output lets a plain `diff` compare fleetup with Ansible.
public enum PythonJSON {
    /// One value as JSON; `indent` nil writes it on one line (`", "` and `": "`, as Python).
    public static func render(_ value: VarValue, indent: Int? = 4) -> String {
        var out = ""
        write(value, into: &out, indent: indent, level: 0)
        return out
    }

    static func write(_ value: VarValue, into out: inout String, indent: Int?, level: Int) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += float(d)
        case .string(let s): string(s, into: &out)
        // Secrets never leave the process in clear text, not even in `--list`.
        case .secret: string(Secret.mask, into: &out)
        case .list(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += indent == nil ? ", " : "," }
                newline(&out, indent, level + 1)
                write(item, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "]"
        case .map(let map):
            guard !map.isEmpty else { out += "{}"; return }
            out += "{"
            for (n, key) in sortedKeys(map).enumerated() {
                if n > 0 { out += indent == nil ? ", " : "," }
                newline(&out, indent, level + 1)
                string(key, into: &out)
                out += ": "
                write(map[key]!, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }

    /// Keys in Python's order: by Unicode code point, not Swift's String ordering.
    public static func sortedKeys<V>(_ map: [String: V]) -> [String] {
        map.keys.sorted(by: codePointLess)
    }

    public static func codePointLess(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
    }

    private static func newline(_ out: inout String, _ indent: Int?, _ level: Int) {
        guard let indent else { return }
        out += "\n"
        out += String(repeating: " ", count: indent * level)
    }

    static func string(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    hex(u.value, into: &out)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    private static func hex(_ v: UInt32, into out: inout String) {
        let h = String(v, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }

    /// Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents
    /// -4 through 15, otherwise `1e+16` style with at least two exponent digits.
    public static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest digits; only the layout differs.
        var text = "\(abs(d))"
        var exp = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp = Int(text[text.index(after: e)...])!
            text = String(text[..<e])
        }
        var intPart = text, frac = ""
        if let dot = text.firstIndex(of: ".") {
            intPart = String(text[..<dot])
            frac = String(text[text.index(after: dot)...])
        }
        var digits = intPart + frac
        exp += intPart.count - 1
        // Normalise: strip leading zeros (0.001 -> "1", exponent -3) and trailing zeros.
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); exp -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        if exp >= -4 && exp < 16 {
            if exp < 0 { return sign + "0." + String(repeating: "0", count: -exp - 1) + digits }
            if digits.count <= exp + 1 { return sign + digits + String(repeating: "0", count: exp + 1 - digits.count) + ".0" }
            let cut = digits.index(digits.startIndex, offsetBy: exp + 1)
            return sign + digits[..<cut] + "." + digits[cut...]
        }
        let mantissa = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
        let e = String(abs(exp))
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e.count < 2 ? "0" + e : e)
    }
}
