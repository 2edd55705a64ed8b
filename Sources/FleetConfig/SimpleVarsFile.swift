import FleetCore

/// A fast path for the commonest vars file: one `name: value` per line at the top level,
/// plain or simply quoted scalars and flow lists of plain scalars (`ansible_host: 10.0.0.5`,
/// `version: '1.2.0'`, `dns: [10.0.0.53, 10.0.1.53]`), full-line comments, an optional `---`. A fleet with a host_vars file per host has thousands of these, and a
/// YAML parser costs far more than the file. Anything else (quotes, lists, nesting, inline
/// comments, tabs...) returns nil and goes to the real YAML parser, so the result is
/// always what Yams + PyYAML typing would give.
enum SimpleVarsFile {
    static func parse(_ text: String, file: String) -> [String: VarValue]? {
        var vars: [String: VarValue] = [:]
        var lineNumber = 0
        for line in Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var bytes = line[...]
            if bytes.last == 0x0D { bytes = bytes.dropLast() }
            guard let first = bytes.first else { continue }
            if first == UInt8(ascii: "#") { continue }
            if lineNumber == 1 && bytes.elementsEqual("---".utf8) { continue }
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let key = bytes[..<colon], rest = bytes[(colon + 1)...]
            guard isName(key) else { return nil }
            let name = String(decoding: key, as: UTF8.self)
            let value: VarValue
            if rest.isEmpty {
                value = .null
            } else {
                guard rest.first == 0x20, let typed = scalarOrList(rest.dropFirst(), file: file, line: lineNumber) else { return nil }
                value = typed
            }
            // A typed key (`yes:`, `1:`) or a repeated one: let the real parser decide.
            guard vars[name] == nil, (try? YAMLValue.implicit(name, file: file, line: nil)) == .string(name) else { return nil }
            vars[name] = value
        }
        return vars
    }

    /// A plain scalar, a quoted one without escapes (`'1.2.0'`, `"x y"`), or a flow list
    /// of plain scalars (`[a, b]`); nil for anything else.
    private static func scalarOrList(_ v: ArraySlice<UInt8>, file: String, line: Int) -> VarValue? {
        guard let first = v.first else { return nil }
        if first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") {
            let body = v.dropFirst()
            // One closing quote, last on the line; no escapes ('' or \) to interpret.
            guard let close = body.firstIndex(of: first), close == body.endIndex - 1,
                !body.contains(UInt8(ascii: "\\"))
            else { return nil }
            return .string(String(decoding: body[..<close], as: UTF8.self))
        }
        if first == UInt8(ascii: "[") {
            guard v.last == UInt8(ascii: "]") else { return nil }
            let inner = v.dropFirst().dropLast()
            if inner.isEmpty { return .list([]) }
            var items: [VarValue] = []
            for (n, raw) in inner.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).enumerated() {
                // Items are written `[a, b]`: one blank after each comma, none elsewhere.
                let item = n == 0 ? raw : (raw.first == 0x20 ? raw.dropFirst() : raw)
                guard n == 0 || raw.first == 0x20, isPlain(item),
                    let typed = try? YAMLValue.implicit(String(decoding: item, as: UTF8.self), file: file, line: line)
                else { return nil }
                items.append(typed)
            }
            return .list(items)
        }
        guard isPlain(v) else { return nil }
        return try? YAMLValue.implicit(String(decoding: v, as: UTF8.self), file: file, line: line)
    }

    /// A variable name: letters, digits, `_`, not starting with a digit.
    private static func isName(_ b: ArraySlice<UInt8>) -> Bool {
        guard let f = b.first, isLetter(f) || f == UInt8(ascii: "_") else { return false }
        return b.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// A plain scalar that means the same to every YAML reader: no blanks, no indicator
    /// first, nothing that could start a comment, a flow collection or a quote.
    private static func isPlain(_ b: ArraySlice<UInt8>) -> Bool {
        guard let f = b.first,
            isLetter(f) || isDigit(f) || f == UInt8(ascii: "/") || f == UInt8(ascii: ".")
                || f == UInt8(ascii: "_") || ((f == UInt8(ascii: "-") || f == UInt8(ascii: "+")) && b.count > 1)
        else { return false }
        return b.allSatisfy { c in
            isLetter(c) || isDigit(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
                || c == UInt8(ascii: "/") || c == UInt8(ascii: "+") || c == UInt8(ascii: "=") || c == UInt8(ascii: "@")
                || c == UInt8(ascii: "~")
        }
    }

    private static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") }
    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}
