import FleetCore
import FleetLocal
import Foundation

/// JSON text exactly as Python's `json.dumps(x, sort_keys=True, indent=4)` writes it,
/// which is what `ansible-inventory` prints: keys sorted by code point, text as UTF-8 (its
/// encoder does not escape `é`), control characters as `\u0001`, floats as Python's
/// `repr`, `Infinity`/`NaN` for the non-finite ones.
/// Byte-for-byte equal output lets a plain `diff` compare fleetup with Ansible.
public enum PythonJSON {
    /// One value as JSON; `indent` nil writes it on one line (`", "` and `": "`, as Python).
    public static func render(_ value: VarValue, indent: Int? = 4) -> String {
        String(decoding: bytes(value, indent: indent), as: UTF8.self)
    }

    /// The same text as UTF-8 bytes: the output of 10,000 hosts is ~8 MB, and building it
    /// in a byte buffer is several times faster than appending to a String.
    public static func bytes(_ value: VarValue, indent: Int? = 4, capacity: Int = 1 << 16) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        write(value, into: &out, indent: indent, level: 0)
        return out
    }

    /// The same text as `bytes`, handed to `send` in pieces of about `chunk` bytes as it is
    /// made, so that it never sits in memory whole: `inventory --list` of 100,000 hosts is
    /// ~60 MB of JSON, which was built twice over (every host's piece, then all of them).
    public static func stream(_ value: VarValue, indent: Int? = 4, chunk: Int = 1 << 20, send: @escaping ([UInt8]) -> Void) {
        var out: [UInt8] = []
        out.reserveCapacity(chunk + chunk / 2)
        write(value, into: &out, indent: indent, level: 0, flush: Flush(chunk: chunk, send: send))
        send(out)
    }

    /// Hands the buffer on once it holds `chunk` bytes.
    struct Flush {
        let chunk: Int
        let send: ([UInt8]) -> Void
        func callAsFunction(_ out: inout [UInt8]) {
            guard out.count >= chunk else { return }
            send(out)
            out.removeAll(keepingCapacity: true)
        }
    }

    static func write(_ value: VarValue, into out: inout [UInt8], indent: Int?, level: Int, flush: Flush? = nil) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: float(d).utf8)
        case .string(let s): string(s, into: &out)
        case .unsafe(let s): write(.map(["__ansible_unsafe": .string(s)]), into: &out, indent: indent, level: level, flush: flush)
        // Secrets never leave the process in clear text, not even in `--list`; an inline
        // `!vault` value shows its vault text, as ansible-inventory shows it.
        case .secret(let s):
            if let text = s.vaultText {
                write(.map(["__ansible_vault": .string(text)]), into: &out, indent: indent, level: level, flush: flush)
            } else {
                string(Secret.mask, into: &out)
            }
        case .list(let items):
            guard !items.isEmpty else { out.append(0x5B); out.append(0x5D); return }
            out.append(0x5B)
            for (n, item) in items.enumerated() {
                if n > 0 { separator(&out, indent) }
                newline(&out, indent, level + 1)
                write(item, into: &out, indent: indent, level: level + 1, flush: flush)
                flush?(&out)
            }
            newline(&out, indent, level)
            out.append(0x5D)
        case .map(let map):
            guard !map.isEmpty else { out.append(0x7B); out.append(0x7D); return }
            out.append(0x7B)
            let keys = sortedKeys(map)
            // `_meta.hostvars` of a big fleet: render the hosts on every core, a batch at a
            // time (streamed, only one batch of rendered hosts is held at once).
            let batch = keys.count >= 1024 ? (flush == nil ? keys.count : 4096) : 0
            var values: [[UInt8]] = []
            for (n, key) in keys.enumerated() {
                if batch > 0 && n % batch == 0 {
                    values = parallel(keys[n..<min(keys.count, n + batch)].map { map[$0]! }, indent: indent, level: level + 1)
                }
                if n > 0 { separator(&out, indent) }
                newline(&out, indent, level + 1)
                string(key, into: &out)
                out.append(0x3A)
                out.append(0x20)
                if batch > 0 {
                    out.append(contentsOf: values[n % batch])
                } else {
                    write(map[key]!, into: &out, indent: indent, level: level + 1, flush: flush)
                }
                flush?(&out)
            }
            newline(&out, indent, level)
            out.append(0x7D)
        }
    }

    /// Each value rendered on its own, spread over the cores; same bytes as in sequence.
    private static func parallel(_ values: [VarValue], indent: Int?, level: Int) -> [[UInt8]] {
        // Neighbouring hosts often have the very same variables (one group, one range line):
        // each worker compares with the last value it rendered, usually a pointer check.
        Parallel.map(values.count, state: { () -> (VarValue, [UInt8])? in nil }) { i, previous in
            // (-0.0 == 0.0 as values, but they print differently: no reuse with floats.)
            if let (v, bytes) = previous, v == values[i], !hasFloat(v) { return bytes }
            var buf: [UInt8] = []
            write(values[i], into: &buf, indent: indent, level: level)
            previous = (values[i], buf)
            return buf
        }
    }

    private static func hasFloat(_ v: VarValue) -> Bool {
        switch v {
        case .double: return true
        case .list(let items): return items.contains(where: hasFloat)
        case .map(let m): return m.values.contains(where: hasFloat)
        default: return false
        }
    }

    /// Keys in Python's order: by Unicode code point, not Swift's String ordering.
    public static func sortedKeys<V>(_ map: [String: V]) -> [String] {
        // For ASCII keys (nearly all) Swift's own comparison is the same order, and faster.
        if map.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) { return map.keys.sorted() }
        return map.keys.sorted(by: codePointLess)
    }

    /// Code point order; UTF-8 byte order is the same order, and much cheaper to compare.
    public static func codePointLess(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c != 0 ? c < 0 : x.count < y.count
            }
        }
    }

    private static func separator(_ out: inout [UInt8], _ indent: Int?) {
        out.append(0x2C)
        if indent == nil { out.append(0x20) }
    }

    private static let spaces = [UInt8](repeating: 0x20, count: 64)

    private static func newline(_ out: inout [UInt8], _ indent: Int?, _ level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        let n = indent * level
        if n <= spaces.count { out.append(contentsOf: spaces[..<n]) } else { out.append(contentsOf: repeatElement(0x20, count: n)) }
    }

    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        // Most names and values need no escape at all: copy their bytes whole.
        var copied = false
        var t = s
        t.withUTF8 { buf in
            guard !buf.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return }
            out.append(contentsOf: buf)
            copied = true
        }
        if copied { out.append(0x22); return }
        for b in s.utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0..<0x20:
                let h = Array(String(b, radix: 16).utf8)
                out += [0x5C, 0x75, 0x30, 0x30] + (h.count == 1 ? [0x30] + h : h)
            default: out.append(b)  // UTF-8 passes through: ansible-inventory does not escape it
            }
        }
        out.append(0x22)
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
