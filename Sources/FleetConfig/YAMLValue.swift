import FleetCore
import FleetVault
import Foundation
import Yams

/// YAML nodes to variable values with the typing of PyYAML's SafeLoader (YAML 1.1), which
/// is what Ansible reads: `yes`/`on` are true, `0777` is octal, `1:20` is 80, `1e3` is text
/// (a float needs a dot), dates become ISO text, `<<` merges mappings. Yams' own resolver
/// is bypassed (`Resolver.basic`) so that these rules, not YAML 1.2's, decide.
enum YAMLValue {
    /// The tag of quoted scalars and of `!!str`.
    static let stringTag = "tag:yaml.org,2002:str"
    /// What our resolver gives untagged plain scalars, so that they, and only they, get
    /// PyYAML's implicit typing (Yams' own `.basic` would call them `str`, like `!!str 12`).
    static let plainTag = "tag:fleetup,2026:plain"
    static let resolver = Resolver.basic.appending(try! Resolver.Rule(Tag.Name(rawValue: plainTag), "^"))

    static func isImplicit(_ s: Node.Scalar) -> Bool {
        // Yams resolves tags lazily: an untouched plain scalar still has the empty tag.
        s.style == .plain && (s.tag.description.isEmpty || s.tag.description == plainTag)
    }

    /// A node's value. `vault`: the passwords that open inline `!vault` values (nil: none
    /// were asked for — such a value stays encrypted, with a warning).
    static func value(
        _ node: Node, file: String, warnings: inout [ConfigWarning], vault: VaultKeyring? = nil
    ) throws(ConfigError) -> VarValue {
        switch node {
        case .scalar(let s):
            return try scalar(s, file: file, warnings: &warnings, vault: vault)
        case .sequence(let seq):
            var out: [VarValue] = []
            for item in seq { out.append(try value(item, file: file, warnings: &warnings, vault: vault)) }
            return .list(out)
        case .mapping(let map):
            var out: [String: VarValue] = [:]
            for (k, v) in try pairs(map, file: file, warnings: &warnings) {
                out[try keyText(k, file: file, warnings: &warnings)] = try value(v, file: file, warnings: &warnings, vault: vault)
            }
            return .map(out)
        case .alias:
            throw ConfigError(file: file, line: node.mark?.line, "unresolved YAML alias")
        }
    }

    /// A mapping's pairs with `<<` merges applied. (Keys written twice never get here: Yams
    /// refuses them, and so does fleetup, where Ansible only warns.)
    static func pairs(_ map: Node.Mapping, file: String, warnings: inout [ConfigWarning]) throws(ConfigError) -> [(Node, Node)] {
        // Without a merge key there is nothing to override: the pairs as written (a hosts
        // mapping of 100,000 entries cost 47 MB of copies and an index otherwise).
        if !map.contains(where: { k, _ in k.scalar.map { $0.style == .plain && $0.string == "<<" } ?? false }) {
            return Array(map)
        }
        var merged: [(Node, Node)] = []
        var own: [(Node, Node)] = []
        for (k, v) in map {
            if let s = k.scalar, s.style == .plain, s.string == "<<" {
                let sources: [Node] = v.sequence.map { Array($0) } ?? [v]
                for src in sources {
                    guard let m = src.mapping else {
                        throw ConfigError(file: file, line: src.mark?.line, "expected a mapping (or a list of mappings) after \"<<\"")
                    }
                    merged.append(contentsOf: try pairs(m, file: file, warnings: &warnings))
                }
            } else {
                own.append((k, v))
            }
        }
        // Own keys override merged ones, in the merged key's place (PyYAML's dict update).
        var index: [String: Int] = [:]
        var out: [(Node, Node)] = []
        for (k, v) in merged + own {
            let key = (k.scalar?.string).map { "s:" + $0 } ?? "n:\(k)"
            if let i = index[key] {
                out[i].1 = v
            } else {
                index[key] = out.count
                out.append((k, v))
            }
        }
        return out
    }

    /// A mapping key as Python's json writes it (`1` -> "1", `true` -> "true").
    static func keyText(_ node: Node, file: String, warnings: inout [ConfigWarning]) throws(ConfigError) -> String {
        guard node.scalar != nil else {
            throw ConfigError(file: file, line: node.mark?.line, "expected a plain key, not a list or mapping")
        }
        return PythonLiteral.keyText(try value(node, file: file, warnings: &warnings))
    }

    static func scalar(
        _ s: Node.Scalar, file: String, warnings: inout [ConfigWarning], vault: VaultKeyring? = nil
    ) throws(ConfigError) -> VarValue {
        let tag = s.tag.description
        let text = s.string
        switch tag {
        case "", plainTag:  // no tag: PyYAML's implicit typing decides
            return s.style == .plain ? try implicit(text, file: file, line: s.mark?.line) : .string(text)
        case stringTag, "!":
            return .string(text)
        case "!secret": return .secret(Secret(text))
        case "!unsafe": return .unsafe(text)
        case "!vault", "!vault-encrypted":
            guard let vault, !vault.isEmpty else {
                // No password given: kept as Ansible's --list shows it (a command using it fails).
                warnings.append(
                    ConfigWarning(
                        file: file, line: s.mark?.line,
                        "vault-encrypted value kept encrypted: no vault password was given (--vault-password-file, --vault-id)"))
                return .map(["__ansible_vault": .string(text)])
            }
            do { return .secret(Secret(try vault.decrypt(text), vaultText: text)) } catch {
                throw ConfigError(file: file, line: s.mark?.line, "!vault value: \(error)")
            }
        case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null":
            let v = try implicit(text, file: file, line: s.mark?.line)
            let ok: Bool
            switch (tag.split(separator: ":").last!, v) {
            case ("int", .int), ("float", .double), ("bool", .bool), ("null", .null): ok = true
            case ("float", .int(let i)): return .double(Double(i))
            default: ok = false
            }
            guard ok else {
                throw ConfigError(file: file, line: s.mark?.line, "\"\(text)\" is not a valid \(tag.split(separator: ":").last!)")
            }
            return v
        default:
            throw ConfigError(
                file: file, line: s.mark?.line, "unknown YAML tag \"\(tag)\" (expected !secret, !unsafe, !vault or a standard tag)")
        }
    }

    /// PyYAML's implicit resolvers for a plain scalar.
    static func implicit(_ t: String, file: String, line: Int?) throws(ConfigError) -> VarValue {
        guard let first = t.unicodeScalars.first else { return .null }
        switch t {
        case "~", "null", "Null", "NULL": return .null
        case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return .bool(true)
        case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
        default: break
        }
        guard "-+0123456789.".unicodeScalars.contains(first), t.allSatisfy(\.isASCII) else { return .string(t) }
        if let i = integer(t) { return i }
        if let d = float(t) { return .double(d) }
        if first != "-" && first != "+" && first != ".", let iso = try timestamp(t, file: file, line: line) { return .string(iso) }
        return .string(t)
    }

    private static func integer(_ raw: String) -> VarValue? {
        var t = Substring(raw)
        var negative = false
        if let c = t.first, c == "-" || c == "+" { negative = c == "-"; t = t.dropFirst() }
        guard let c0 = t.first else { return nil }
        let body: Substring
        let radix: Int
        if t.hasPrefix("0b") {
            body = t.dropFirst(2); radix = 2; guard body.allSatisfy({ "01_".contains($0) }) else { return nil }
        } else if t.hasPrefix("0x") {
            body = t.dropFirst(2); radix = 16; guard body.allSatisfy({ $0.isHexDigit || $0 == "_" }) else { return nil }
        } else if c0 == "0" && t.count > 1 {
            body = t.dropFirst(); radix = 8; guard body.allSatisfy({ ("0"..."7").contains($0) || $0 == "_" }) else { return nil }
        } else if t.utf8.contains(UInt8(ascii: ":")) {
            // Base 60: 1:20 is 80. Every part after the first is 0-59, written with 1-2 digits.
            let parts = t.split(separator: ":", omittingEmptySubsequences: false)
            guard c0 != "0", parts[0].allSatisfy({ $0.isNumber || $0 == "_" }),
                parts.dropFirst().allSatisfy({
                    (1...2).contains($0.count) && $0.allSatisfy(\.isNumber) && Int($0)! < 60 && ($0.count == 1 || $0.first! <= "5")
                })
            else { return nil }
            var v = 0
            for p in parts {
                guard let n = Int(p.replacingOccurrences(of: "_", with: "")) else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 60)
                let (s, o2) = m.addingReportingOverflow(n)
                if o1 || o2 { return nil }
                v = s
            }
            return .int(negative ? -v : v)
        } else {
            guard c0 != "_", t.allSatisfy({ $0.isNumber || $0 == "_" }) else { return nil }
            body = t; radix = 10
        }
        let digits = String(body.filter { $0 != "_" })
        if digits.isEmpty { return radix == 8 ? .int(0) : nil }
        // Beyond 64 bits: kept as text. -9223372036854775808 (Int.min) is an integer too.
        guard let m = UInt64(digits, radix: radix) else { return nil }
        if negative {
            guard m <= UInt64(Int.max) + 1 else { return nil }
            return .int(Int(truncatingIfNeeded: 0 &- m))
        }
        guard m <= UInt64(Int.max) else { return nil }
        return .int(Int(m))
    }

    private static func float(_ raw: String) -> Double? {
        var t = Substring(raw)
        var sign = 1.0
        switch t {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        let unsigned: Bool
        if let c = t.first, c == "-" || c == "+" { sign = c == "-" ? -1 : 1; t = t.dropFirst(); unsigned = false } else { unsigned = true }
        guard let c0 = t.first, let dot = t.firstIndex(of: ".") else { return nil }
        // `.5` is a float, `-.5` is text: PyYAML's pattern has no sign before a bare dot.
        if c0 == "." && !unsigned { return nil }
        if c0 == "." { guard let n = t.dropFirst().first, n.isNumber else { return nil } }
        let whole = t[..<dot]
        var rest = t[t.index(after: dot)...]
        var exponent: Substring = ""
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = rest[rest.index(after: e)...]
            rest = rest[..<e]
            guard let s = exponent.first, s == "+" || s == "-", exponent.count > 1, exponent.dropFirst().allSatisfy(\.isNumber) else {
                return nil
            }
        }
        if whole.utf8.contains(UInt8(ascii: ":")) {
            // Base 60 with a fraction: 1:30.5 is 90.5.
            let parts = whole.split(separator: ":", omittingEmptySubsequences: false)
            guard exponent.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isNumber || $0 == "_" } }),
                rest.allSatisfy({ $0.isNumber || $0 == "_" })
            else { return nil }
            var v = 0.0
            for p in parts { v = v * 60 + Double(p.replacingOccurrences(of: "_", with: ""))! }
            v += Double("0." + rest.replacingOccurrences(of: "_", with: "") + "0")!
            return sign * v
        }
        guard whole.allSatisfy({ $0.isNumber || $0 == "_" }), rest.allSatisfy({ $0.isNumber || $0 == "_" }),
            whole.first != "_"
        else { return nil }
        let w = whole.replacingOccurrences(of: "_", with: ""), f = rest.replacingOccurrences(of: "_", with: "")
        return Double((w.isEmpty ? "0" : w) + "." + (f.isEmpty ? "0" : f) + (exponent.isEmpty ? "" : "e" + exponent)).map { sign * $0 }
    }

    /// YAML 1.1 timestamps as Python's `isoformat()` writes them; nil when `t` is not one.
    private static func timestamp(_ t: String, file: String, line: Int?) throws(ConfigError) -> String? {
        let c = Array(t)
        func digits(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= c.count, c[r].allSatisfy(\.isNumber) else { return nil }
            return Int(String(c[r]))
        }
        guard c.count >= 8, let year = digits(0..<4), c[4] == "-" else { return nil }
        var i = 5
        func number(max: Int) -> Int? {
            var j = i
            while j < c.count, j - i < max, c[j].isNumber { j += 1 }
            guard j > i, let v = Int(String(c[i..<j])) else { return nil }
            i = j
            return v
        }
        guard let month = number(max: 2), i < c.count, c[i] == "-" else { return nil }
        i += 1
        guard let day = number(max: 2) else { return nil }
        let dateOnly = i == c.count
        if dateOnly && t.count != 10 { return nil }  // a bare date needs two-digit month and day
        var comps = DateComponents(calendar: Calendar(identifier: .gregorian), year: year, month: month, day: day)
        guard comps.isValidDate else { throw ConfigError(file: file, line: line, "\"\(t)\" looks like a date but is not a valid one") }
        let date = String(format: "%04d-%02d-%02d", year, month, day)
        if dateOnly { return date }
        // Time part: [Tt] or blanks, hh:mm:ss, optional .fraction, optional zone.
        if c[i] == "t" || c[i] == "T" {
            i += 1
        } else {
            guard c[i] == " " || c[i] == "\t" else { return nil }
            while i < c.count, c[i] == " " || c[i] == "\t" { i += 1 }
        }
        guard let hour = number(max: 2), i < c.count, c[i] == ":" else { return nil }
        i += 1
        guard let minute = digits(i..<(i + 2)), i + 2 < c.count, c[i + 2] == ":" else { return nil }
        i += 3
        guard let second = digits(i..<(i + 2)) else { return nil }
        i += 2
        var micro = 0
        if i < c.count, c[i] == "." {
            i += 1
            let start = i
            while i < c.count, c[i].isNumber { i += 1 }
            let frac = String(c[start..<i].prefix(6))
            micro = Int(frac.padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
        }
        while i < c.count, c[i] == " " || c[i] == "\t" { i += 1 }
        var zone = ""
        if i < c.count {
            if c[i] == "Z" && i + 1 == c.count {
                zone = "+00:00"
            } else {
                guard c[i] == "+" || c[i] == "-" else { return nil }
                let s = c[i]
                i += 1
                guard let zh = number(max: 2) else { return nil }
                var zm = 0
                if i < c.count {
                    guard c[i] == ":", let m = digits((i + 1)..<(i + 3)), i + 3 == c.count else { return nil }; zm = m; i = c.count
                }
                zone = String(s) + String(format: "%02d:%02d", zh, zm)
            }
        }
        comps.hour = hour; comps.minute = minute; comps.second = second
        guard hour < 24, minute < 60, second < 60 else {
            throw ConfigError(file: file, line: line, "\"\(t)\" looks like a timestamp but is not a valid one")
        }
        var out = date + String(format: "T%02d:%02d:%02d", hour, minute, second)
        if micro != 0 { out += String(format: ".%06d", micro) }
        return out + zone
    }
}
