/// Bounds a YAML file's items before Yams builds its tree: each node costs ~200 bytes there
/// (a `Tag` object, a mark, a pair in its mapping), so an 8 MB flow list of one-character
/// items (`[1,1,1,…]`) took 700 MB, and 64 MB of them would take 5 GB.
enum YAMLItems {
    /// Throws when `text` holds more than `ConfigLimits.fileItems` items, counted as what
    /// can separate two nodes: line breaks, `,`, `[`, `{`, and `:`, `-` or `?` followed by a
    /// blank. Every node but the first follows one of these, so nodes never outnumber them
    /// by more than the collections that hold them.
    @discardableResult
    static func check(_ text: String, file: String) throws(ConfigError) -> Int {
        var count = 0, line = 1
        var previous: UInt8 = 0
        for c in text.utf8 {
            switch c {
            case 0x0A: count += 1; line += 1
            case 0x2C, 0x5B, 0x7B: count += 1  // , [ {
            case 0x20, 0x09:  // a blank after : - ?
                if previous == 0x3A || previous == 0x2D || previous == 0x3F { count += 1 }
            default: break
            }
            previous = c
            if count > ConfigLimits.fileItems {
                throw ConfigError(
                    file: file, line: line,
                    "more than \(ConfigLimits.fileItems) items (lines, list items and mapping entries) in one file (the limit: each costs 100-200 bytes loaded)"
                )
            }
        }
        return count
    }
}
