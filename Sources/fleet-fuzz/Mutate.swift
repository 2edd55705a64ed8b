import Foundation

/// SplitMix64: small, fast, and a case can be replayed from its seed.
struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Values at the edges, by kind: what a careless or hostile author writes where a
/// number, a duration, a pattern or a version goes.
enum Edge {
    static let numbers = [
        "0", "-1", "1", "2", "255", "256", "65535", "65536", "2147483647", "2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616",
        "99999999999999999999", "1e308", "1e309", "1e-400", "-0", "0x7fffffffffffffff", "1_000", ".inf",
        "nan", "1.5", "0.0001", "", "abc", "12abc", " 5 ", "+3", "00000000000000000000001",
    ]
    static let durations = [
        "0", "0s", "1ms", "30d", "31d", "720h", "2592000", "2592001", "99999999999999999999d", "1e400",
        "1.5.5s", "10x", "", "5 minutes", "1h30m", "999999999h", "0.0000001ms", "1h-5m", "inf",
        String(repeating: "9", count: 400) + "ms", "1" + String(repeating: "0", count: 40) + "s", "nan", ".5s", "-5s",
    ]
    static let patterns = [
        "all", "*", "web*", "~(a+)+$", "~[", "[", "web[0]", "web[-1]", "web[99999999999999999999]", "h[1:]",
        "h[-99999:]", "!all", "&h1", "@/dev/zero", "@/dev/null", "@missing", "@/", "a:b:c", ",,,", ":", "",
        "staging:&prod", "prod:!h1", "~h\\d+", "h?", "[a-z]*", "[!a]*", "h1,h2", "ungrouped", "mattermost",
        "~" + String(repeating: "(a|a)", count: 12) + "b", String(repeating: "a", count: 5000) + "*",
    ]
    static let versions = [
        "1.0.0", "5.3.0", "v1", "99999999999999999999.0.0", "1.2.3-rc.1", "1.2.3.4", "", "x", "0.0.0",
        "18446744073709551616.1.1", "1..2", "v", "-1.0.0", "5.3", "5",
    ]
    static let words = [
        "all", "ungrouped", "web", "db", "staging", "prod", "mattermost", "flow", "g", "h1", "_", "é",
        "a b", "x:y", "[", "]", "{{", "}}", "${x}", "`id`", "$(id)", "'", "\"", "\\", "#", ";", "\u{0}",
        "\u{FEFF}", "\u{85}", "\u{2028}", "\r", String(repeating: "x", count: 300),
    ]
    static let ints = [
        "0", "-1", "1", "20", "64", "2147483647", "9223372036854775807", "9223372036854775808",
        "99999999999999999999", "1e3", "", "abc", "-9223372036854775808", "4294967296",
    ]
    static let seconds = [
        "1", "0.5", "0", "-1", "inf", "-inf", "nan", "1e300", "1e400", "2592000", "2592000.5", "0.0000001",
        "1e-300", "abc", "", "30", "0x10",
    ]

    /// Python literals for INI values, some nested past any limit.
    static func pythonValue(_ rng: inout Rng) -> String {
        switch rng.below(8) {
        case 0: let d = rng.below(400); return String(repeating: rng.pick(["[", "(", "{"]), count: d)
        case 1: let d = rng.below(300); return String(repeating: "[", count: d) + String(repeating: "]", count: d)
        case 2: return String(repeating: rng.pick(["-", "+", "- "]), count: rng.below(20_000)) + "1"
        case 3: return rng.pick(numbers)
        case 4: return "{'" + rng.pick(words) + "': [" + rng.pick(numbers) + ", None, True]}"
        case 5: return "'" + String(repeating: "\\x", count: rng.below(5)) + rng.pick(words) + "'"
        case 6: return "(" + String(repeating: "1,", count: rng.below(10_000)) + ")"
        default: return rng.pick(words)
        }
    }
}

/// Text mutations that know lines, INI sections, YAML indentation and `key: value`.
enum Mutate {
    static func text(_ text: String, kind: String, seeds: [String], rng: inout Rng) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<(1 + rng.below(5)) {
            let at = rng.below(lines.count + 1)
            switch rng.below(12) {
            case 0: if !lines.isEmpty { lines.remove(at: min(at, lines.count - 1)) }
            case 1:
                if !lines.isEmpty { let l = lines[min(at, lines.count - 1)]; for _ in 0..<(1 + rng.below(3)) { lines.insert(l, at: at) } }
            case 2: if lines.count > 1 { lines.swapAt(rng.below(lines.count), rng.below(lines.count)) }
            case 3: lines.insert(contentsOf: structure(kind, &rng), at: at)
            case 4: if !lines.isEmpty { let i = min(at, lines.count - 1); lines[i] = replaceValue(lines[i], &rng) }
            case 5: if !lines.isEmpty { let i = min(at, lines.count - 1); lines[i] = bytes(lines[i], &rng) }
            case 6:  // a piece of another seed
                let other = rng.pick(seeds).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if !other.isEmpty {
                    let from = rng.below(other.count)
                    lines.insert(contentsOf: other[from..<min(other.count, from + 1 + rng.below(12))], at: at)
                }
            case 7:
                if !lines.isEmpty {
                    let i = min(at, lines.count - 1);
                    lines[i] = String(repeating: " ", count: rng.below(9)) + lines[i].trimmingCharacters(in: .whitespaces)
                }
            case 8: if !lines.isEmpty { let i = min(at, lines.count - 1); lines[i] = ranges(lines[i], &rng) }
            case 9: lines.insert(contentsOf: templates(&rng), at: at)
            case 10: lines = lines.map { $0 + rng.pick(["\r", "", "", " # c", "\t"]) }
            default: if !lines.isEmpty { let i = min(at, lines.count - 1); lines[i] += rng.pick(Edge.words) }
            }
        }
        return lines.joined(separator: rng.chance(3) ? "\r\n" : "\n")
    }

    /// Only values replaced, at the edges for their keys, on a few lines: the structure
    /// (and so most of the file's meaning) stays.
    static func values(_ text: String, rng: inout Rng) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Lines that hold a value after their key (not `children:` and its kind).
        let candidates = lines.indices.filter { i in
            guard let sep = lines[i].firstIndex(where: { $0 == ":" || $0 == "=" }) else { return false }
            return !lines[i][lines[i].index(after: sep)...].trimmingCharacters(in: .whitespaces).isEmpty
        }
        guard !candidates.isEmpty else { return text }
        for _ in 0..<(1 + rng.below(3)) {
            let i = rng.pick(candidates)
            lines[i] = rng.chance(20) ? ranges(lines[i], &rng) : replaceValue(lines[i], &rng)
        }
        return lines.joined(separator: "\n")
    }

    /// New structure in the file's own language.
    static func structure(_ kind: String, _ rng: inout Rng) -> [String] {
        let name = rng.pick(Array(Edge.words.prefix(12)))
        if kind == "ini" {
            switch rng.below(6) {
            case 0: return ["[\(name):children]", rng.pick(Array(Edge.words.prefix(12)))]
            case 1: return ["[\(name):vars]", "k = " + Edge.pythonValue(&rng)]
            case 2:
                return ["[\(name)]", "h\(rng.below(9))" + rng.pick(["", ":22", ":0", ":99999", ":abc"]) + " k=" + Edge.pythonValue(&rng)]
            case 3:  // a chain or a diamond of groups
                let n = rng.below(300)
                return (1..<max(2, n)).flatMap { i in
                    ["[c\(i):children]", "c\(i - 1)"]
                        + (rng.chance(30) ? ["[d\(i):children]", "c\(i - 1)", "[c\(i):children]", "d\(i)"] : [])
                }
            case 4: return ["h[\(rng.pick(Edge.numbers)):\(rng.pick(Edge.numbers))\(rng.chance(30) ? ":" + rng.pick(Edge.numbers) : "")]"]
            default: return ["[all:children]", name]
            }
        }
        switch rng.below(7) {
        case 0:  // aliases of aliases
            let width = 2 + rng.below(9), depth = 2 + rng.below(12)
            return ["x0: &x0 [lol]"]
                + (1..<depth).map { i in "x\(i): &x\(i) [" + Array(repeating: "*x\(i - 1)", count: width).joined(separator: ", ") + "]" }
        case 1: let d = rng.below(1300); return ["deep: " + String(repeating: "[", count: d) + String(repeating: "]", count: d)]
        case 2: return ["  <<: *" + rng.pick(["x0", "x1", "d", "missing"]), "  k: " + rng.pick(Edge.numbers)]
        case 3:
            return [
                "\(name): !" + rng.pick(["secret", "unsafe", "vault", "!int", "!float", "!binary", "bogus"]) + " " + rng.pick(Edge.numbers)
            ]
        case 4: return ["? [" + rng.pick(Edge.words) + "]", ": v"]
        case 5:
            return [
                "\(name):", "  children:", "    \(rng.pick(Array(Edge.words.prefix(12)))):", "      hosts:", "        h\(rng.below(5)):",
            ]
        default: return ["---", "\(name): " + rng.pick(Edge.numbers)]
        }
    }

    /// `key: value` with a value at the edge for what the key holds.
    static func replaceValue(_ line: String, _ rng: inout Rng) -> String {
        guard let colon = line.firstIndex(where: { $0 == ":" || $0 == "=" }) else { return line }
        let key = line[..<colon].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "- "))
        let value: String
        switch key {
        case "pause", "timeout", "period", "initial_delay", "deadline": value = rng.pick(Edge.durations)
        case "gate": value = rng.pick(["none", "manual", "soak " + rng.pick(Edge.durations), "{soak: \(rng.pick(Edge.durations))}"])
        case "batch":
            value = rng.pick([
                "[" + rng.pick(Edge.numbers) + ", \"" + rng.pick(Edge.numbers) + "%\"]", rng.pick(Edge.numbers),
                "\"\(rng.pick(Edge.numbers))%\"",
            ])
        case "max_fail_percentage", "max_failures", "retries", "success_threshold", "failure_threshold", "seed",
            "ansible_port", "ansible_group_priority", "app_port", "status":
            value = rng.pick(Edge.numbers)
        case "target", "releases": value = rng.pick(Edge.versions)
        case "pattern": value = rng.pick(["'(a+)+$'", "'('", "'(\\d+)\\.(\\d+)'", "'" + String(repeating: "(a*)*", count: 10) + "'"])
        case "hosts": value = rng.pick(Edge.patterns)
        case "src": value = rng.pick(["/dev/zero", "/dev/null", "/", "/proc/self/status", "missing.tar.gz", "../../../etc/passwd"])
        case "mode": value = rng.pick(["0644", "644", "0o777", "99999999999", "-1", "0x1ff"])
        case "when": value = rng.pick(["a == \"b\"", "not x", "[a, b]", "", "x and y", String(repeating: "not ", count: 1000) + "x"])
        default: value = rng.chance(50) ? rng.pick(Edge.numbers) : rng.pick(Edge.words)
        }
        return String(line[...colon]) + " " + value
    }

    /// Host ranges at the edges.
    static func ranges(_ line: String, _ rng: inout Rng) -> String {
        let range = "[\(rng.pick(Edge.numbers)):\(rng.pick(Edge.numbers))" + (rng.chance(30) ? ":\(rng.pick(Edge.numbers))" : "") + "]"
        if let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") {
            return String(line[..<open]) + range + String(line[line.index(after: close)...])
        }
        return line + range
    }

    /// Variables that refer to variables: chains, doublings, loops, unknown names.
    static func templates(_ rng: inout Rng) -> [String] {
        let n = 2 + rng.below(150)
        switch rng.below(4) {
        case 0: return ["  t0: ab"] + (1..<n).map { "  t\($0): \"{{ t\($0 - 1) }}{{ t\($0 - 1) }}\"" }
        case 1: return ["  c0: x"] + (1..<n).map { "  c\($0): \"{{ c\($0 - 1) }}\"" }
        case 2: return ["  l1: \"{{ l2 }}\"", "  l2: \"{{ l1 }}\""]
        default: return ["  u: \"{{ " + rng.pick(["nope", "host", "{{", "x | upper", "'lit'", "", "a b"]) + " }}\""]
        }
    }

    /// Hostile bytes inside a line.
    static func bytes(_ line: String, _ rng: inout Rng) -> String {
        var scalars = Array(line.unicodeScalars)
        let at = rng.below(scalars.count + 1)
        let piece = rng.pick([
            "\u{0}", "\u{FEFF}", "\u{85}", "\u{2028}", "\u{FFFD}", "\t", "\u{7F}", "é", "\u{1F600}", "&a", "*a", "!", "|", ">", "%", "@",
            "`",
        ])
        scalars.insert(contentsOf: piece.unicodeScalars, at: at)
        return String(String.UnicodeScalarView(scalars))
    }

    /// A journal or run record: JSON values replaced by edge values (numbers, times,
    /// strings), lines dropped, repeated, swapped or cut.
    static func json(_ text: String, rng: inout Rng) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return text }
        for _ in 0..<(1 + rng.below(4)) {
            let i = rng.below(lines.count)
            switch rng.below(7) {
            case 0: lines.remove(at: i); if lines.isEmpty { return "" }
            case 1: lines.insert(lines[i], at: i)
            case 2: lines.swapAt(i, rng.below(lines.count))
            case 3: lines[i] = String(lines[i].prefix(rng.below(lines[i].count + 1)))
            default: lines[i] = jsonValue(lines[i], &rng)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A journal or run record whose values keep their JSON types (numbers stay numbers,
    /// strings strings), so that it still decodes and the renderers get the edge values.
    static func jsonTyped(_ text: String, rng: inout Rng) -> String {
        var out = ""
        var chars = Array(text)[...]
        while let c = chars.first {
            if c == "\"" {  // a string: kept, or replaced by an edge string (never a key)
                var end = chars.index(after: chars.startIndex)
                while end < chars.endIndex && chars[end] != "\"" {
                    end =
                        chars[end] == "\\"
                        ? chars.index(end, offsetBy: 2, limitedBy: chars.endIndex) ?? chars.endIndex : chars.index(after: end)
                }
                end = min(end, chars.endIndex - 1)
                let literal = String(chars[chars.startIndex...end])
                chars = chars[chars.index(after: end)...]
                let isKey = chars.first == ":"
                out +=
                    !isKey && rng.chance(4)
                    ? "\""
                        + rng.pick([
                            "", "x", String(repeating: "é", count: 5000), "<script>", "\\u0000", "2026-13-45T99:99:99Z",
                            "9999-12-31T23:59:59.999Z", "1970-01-01T00:00:00Z", "../..", "a\\nb",
                        ]) + "\"" : literal
            } else if c == "-" || c.isNumber {  // a number: kept, or an edge one
                var end = chars.startIndex
                while end < chars.endIndex && "-+.eE0123456789".contains(chars[end]) { end = chars.index(after: end) }
                let literal = String(chars[chars.startIndex..<end])
                chars = chars[end...]
                out +=
                    rng.chance(6)
                    ? rng.pick(["0", "-1", "9223372036854775807", "-9223372036854775808", "4294967296", "1", "2147483648", "999999999999"])
                    : literal
            } else {
                out.append(c)
                chars = chars.dropFirst()
            }
        }
        return out
    }

    /// One `"key":value` of a JSON line with its value replaced.
    static func jsonValue(_ line: String, _ rng: inout Rng) -> String {
        let chars = Array(line)
        let colons = chars.indices.filter { chars[$0] == ":" && $0 > 0 && chars[$0 - 1] == "\"" }
        guard let colon = colons.isEmpty ? nil : colons[rng.below(colons.count)] else { return line }
        // The value runs to the next , or } or ] outside a string (close enough for fuzzing).
        var end = colon + 1, inString = false
        while end < chars.count {
            let c = chars[end]
            if c == "\"" && chars[end - 1] != "\\" { inString.toggle() }
            if !inString && (c == "," || c == "}" || c == "]") { break }
            end += 1
        }
        let value = rng.pick([
            "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e308", "1e999",
            "null", "true", "[]", "{}", "\"\"", "\"x\"", "\"2026-13-45T99:99:99Z\"", "\"1970-01-01T00:00:00Z\"",
            "\"9999-12-31T23:59:59.999Z\"", "\"" + String(repeating: "a", count: rng.below(100_000)) + "\"",
            "\"\\u0000\"", "1.5", "\"../../etc\"", "[" + String(repeating: "[", count: rng.below(600)) + "]",
        ])
        return String(chars[...colon]) + value + String(chars[end...])
    }
}
