import Yams

/// Bounds what YAML aliases can expand to, before the document is composed for real.
///
/// Yams resolves an alias to the very node its anchor names, so a 570-byte "billion
/// laughs" (ten aliases of ten aliases of ...) is composed in no time, and then every walk
/// over it (the inventory reader, the vars reader) visits 10^9 nodes: 3 GB and a hang.
/// Worse, Yams hashes each mapping key to find duplicates, so an alias of such a node *as a
/// key* hangs inside `compose` itself. So the text is first composed with every alias
/// replaced by a plain scalar of the same width (`*laugh` -> `Zlaugh`): that tree is
/// exactly as large as the text, keeps each node where it was, and its anchored nodes
/// still carry their anchors. Walking it once, each placeholder counts the size of the node
/// its anchor names; past `ConfigLimits.aliasNodes` in all it is an error at the alias's
/// line.
enum YAMLAliases {
    /// True when `text` could hold an alias at all: a `&name` and a `*name` somewhere.
    static func mayHaveAliases(_ text: String) -> Bool {
        var anchor = false, alias = false
        var previous: UInt8 = 0
        for c in text.utf8 {
            if isNameByte(c) {
                if previous == UInt8(ascii: "&") { anchor = true }
                if previous == UInt8(ascii: "*") { alias = true }
                if anchor && alias { return true }
            }
            previous = c
        }
        return false
    }

    /// Throws when the aliases of `text` expand past the limit.
    /// Problems with the YAML itself are left to the real compose, which names them.
    static func check(_ text: String, file: String, resolver: Resolver) throws(ConfigError) {
        let (placeholders, names) = replaced(text)
        // The parser is kept alive while the tree is walked: it holds the anchors, which
        // the nodes reference weakly.
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: placeholders, resolver: resolver, constructor: .default, encoding: .utf8)
            root = try parser.singleRoot()
        } catch {
            return
        }
        guard let root else { return }
        var walk = Walk(file: file, aliases: names)
        _ = try walk.size(root)
        withExtendedLifetime(parser) {}
    }

    /// `[A-Za-z0-9_-]`: the characters of an anchor's name, as libyaml reads them.
    private static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 95 || c == 45
    }

    /// Where a node starts, as libyaml counts: 1-based lines and columns in characters.
    struct Position: Hashable {
        var line: Int, column: Int
    }

    /// `text` with every `*name` turned into `Zname`, and the name each stood at.
    /// (A `*` inside a quoted or plain scalar is turned too; no node starts there, so it
    /// names nothing.) Lines break where libyaml breaks them: \n, \r\n, \r, NEL, LS, PS.
    static func replaced(_ text: String) -> (String, [Position: String]) {
        var out = String.UnicodeScalarView()
        var names: [Position: String] = [:]
        let scalars = Array(text.unicodeScalars)
        var line = 1, column = 1
        var i = scalars.first == "\u{FEFF}" ? 1 : 0  // libyaml does not count a byte-order mark
        if i == 1 { out.append("\u{FEFF}") }
        while i < scalars.count {
            let c = scalars[i]
            if c == "*", i + 1 < scalars.count, scalars[i + 1].isASCII, isNameByte(UInt8(scalars[i + 1].value)) {
                var j = i + 1
                while j < scalars.count, scalars[j].isASCII, isNameByte(UInt8(scalars[j].value)) { j += 1 }
                names[Position(line: line, column: column)] = String(String.UnicodeScalarView(scalars[(i + 1)..<j]))
                out.append("Z")
            } else {
                out.append(c)
            }
            if c == "\n" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
                || (c == "\r" && (i + 1 == scalars.count || scalars[i + 1] != "\n"))
            {
                line += 1
                column = 1
            } else if c != "\r" {
                column += 1
            }
            i += 1
        }
        return (String(out), names)
    }

    /// One pass over the placeholder tree, in document order.
    private struct Walk {
        let file: String
        let aliases: [Position: String]
        /// Each anchor's expanded size, the latest definition of a name winning (YAML lets
        /// a later anchor shadow an earlier one).
        var anchors: [String: Int] = [:]
        /// Nodes reached through aliases so far.
        var expanded = 0

        /// The node's size with its aliases expanded (capped just past the limit).
        mutating func size(_ node: Node) throws(ConfigError) -> Int {
            var total = 1
            switch node {
            case .scalar(let s):
                if s.style == .plain, let mark = s.mark, let name = aliases[Position(line: mark.line, column: mark.column)] {
                    total = anchors[name] ?? 1  // an undefined alias: the real compose names it
                    expanded = min(expanded + total, ConfigLimits.aliasNodes + 1)
                    if expanded > ConfigLimits.aliasNodes {
                        throw ConfigError(
                            file: file, line: mark.line,
                            "aliases expand to more than \(ConfigLimits.aliasNodes) nodes (the limit; a YAML \"billion laughs\"?)")
                    }
                }
            case .sequence(let seq):
                for item in seq { total = add(total, try size(item)) }
            case .mapping(let map):
                // Keys count like values: Yams hashes each key once, whole, so what a key's
                // aliases expand to is what hashing it costs.
                for (k, v) in map { total = add(add(total, try size(k)), try size(v)) }
            case .alias:
                break
            }
            if let anchor = node.anchorName { anchors[anchor] = total }
            return total
        }

        private func add(_ a: Int, _ b: Int) -> Int { min(a + b, ConfigLimits.aliasNodes + 1) }
    }
}

extension Node {
    /// The name of the anchor on this node, while its parser is alive.
    var anchorName: String? {
        switch self {
        case .scalar(let s): return s.anchor?.rawValue
        case .sequence(let s): return s.anchor?.rawValue
        case .mapping(let m): return m.anchor?.rawValue
        case .alias: return nil
        }
    }
}
