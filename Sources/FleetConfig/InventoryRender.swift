import FleetCore

/// What `fleetup inventory` prints, in the shapes `ansible-inventory` prints:
/// `--list` (JSON, or YAML with `--yaml`), `--graph` and `--host`.
public enum InventoryRender {
    /// Variables Ansible computes itself and leaves out of its output.
    static let internalVars: Set<String> = [
        "ansible_async_path", "ansible_collection_name", "ansible_config_file", "ansible_dependent_role_names",
        "ansible_diff_mode", "ansible_facts", "ansible_forks", "ansible_inventory_sources", "ansible_limit",
        "ansible_play_batch", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_role_names",
        "ansible_playbook_python", "ansible_role_name", "ansible_role_names", "ansible_run_tags", "ansible_skip_tags",
        "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file", "inventory_hostname",
        "inventory_hostname_short", "groups", "group_names", "hostvars", "playbook_dir", "play_hosts", "role_name",
        "role_names", "role_path", "role_uuid",
    ]

    /// A host's variables as `ansible-inventory` shows them.
    public static func hostVars(_ host: FleetCore.Host) -> [String: VarValue] {
        // Nearly always none of them is there: then no copy.
        guard host.vars.keys.contains(where: internalVars.contains) else { return host.vars }
        return host.vars.filter { !internalVars.contains($0.key) }
    }

    /// `ansible-inventory --list` as a value: groups with `hosts`/`children` (empty keys and
    /// empty groups left out), `_meta.hostvars` for hosts with variables. `hosts` narrows
    /// the output (`--limit`); nil means every host.
    public static func list(_ inventory: Inventory, hosts selected: [FleetCore.Host]? = nil) -> VarValue {
        // Without --limit every host is shown, and _meta.hostvars is a map: order is moot.
        let shown = selected ?? inventory.hosts
        let available = Set(shown.map(\.name))
        var out: [String: VarValue] = [:]
        var seen = Set<String>()
        func format(_ name: String) {
            guard let g = inventory.groups[name] else { return }
            var entry: [String: VarValue] = [:]
            if name != "all" {
                let hosts = selected == nil ? g.hosts : g.hosts.filter { available.contains($0) }
                if !hosts.isEmpty { entry["hosts"] = .list(hosts.map(VarValue.string)) }
            }
            if !g.children.isEmpty { entry["children"] = .list(g.children.map(VarValue.string)) }
            if !entry.isEmpty { out[name] = .map(entry) }
            for c in g.children where seen.insert(c).inserted { format(c) }
        }
        format("all")
        var hostvars: [String: VarValue] = [:]
        hostvars.reserveCapacity(shown.count)
        var previous: ([String: VarValue], [String: VarValue])? = nil
        for h in shown {
            // Neighbours share one copy of their variables: filter that copy once.
            let vars: [String: VarValue]
            if let (from, to) = previous, from == h.vars { vars = to } else { vars = hostVars(h); previous = (h.vars, vars) }
            if !vars.isEmpty { hostvars[h.name] = .map(vars) }
        }
        out["_meta"] = .map(["hostvars": .map(hostvars), "profile": .string("inventory_legacy")])
        return .map(out)
    }

    /// `ansible-inventory --list --yaml` as a value: nested groups, hosts as keys, each
    /// host's variables under its first appearance only.
    public static func yamlList(_ inventory: Inventory, hosts selected: [FleetCore.Host]? = nil) -> VarValue {
        let shown = selected ?? allHosts(inventory)
        let byName = Dictionary(shown.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var seenHosts = Set<String>(), seenGroups = Set<String>()
        func format(_ name: String) -> VarValue? {
            guard let g = inventory.groups[name] else { return nil }
            var entry: [String: VarValue] = [:]
            var children: [String: VarValue] = [:]
            for c in g.children where c != "all" {
                if seenGroups.contains(c) { children[c] = .map([:]); continue }
                if let v = format(c) { children[c] = v }
                seenGroups.insert(c)
            }
            if !children.isEmpty { entry["children"] = .map(children) }
            var hosts: [String: VarValue] = [:]
            if name != "all" {
                for h in g.hosts {
                    guard let host = byName[h] else { continue }
                    hosts[h] = seenHosts.insert(h).inserted ? .map(hostVars(host)) : .map([:])
                }
            }
            if !hosts.isEmpty { entry["hosts"] = .map(hosts) }
            return entry.isEmpty ? nil : .map(entry)
        }
        return .map(format("all").map { ["all": $0] } ?? [:])
    }

    /// The most lines `graph` prints. A group with several parents is drawn under each,
    /// so groups that each hold the next twice, 24 levels deep (1.4 KB of INI), drew 2^24
    /// subtrees: 2.6 GB and counting. Real trees are drawn in far fewer lines than this.
    public static let maxGraphLines = 1_000_000

    /// `ansible-inventory --graph [group]`: the tree, children before hosts, in
    /// declaration order; a group with two parents appears under both. Refused (before
    /// anything is drawn) when it would be more than `maxGraphLines` lines.
    public static func graph(_ inventory: Inventory, from group: String = "all") throws(ConfigError) -> String {
        // Lines per group, each counted once (a group's count is the same under any parent).
        var counted: [String: Int] = [:]
        func count(_ name: String) -> Int {
            if let c = counted[name] { return c }
            guard let g = inventory.groups[name] else { return 1 }
            var total = 1 + (name == "all" ? 0 : g.hosts.count)
            for c in g.children { total = min(total + count(c), maxGraphLines + 1) }
            counted[name] = total
            return total
        }
        guard count(group) <= maxGraphLines else {
            throw ConfigError(
                file: "--graph",
                "the graph would be more than \(maxGraphLines) lines (the limit; a group with several parents is drawn under each): use --list"
            )
        }
        var lines: [String] = []
        func walk(_ name: String, _ depth: Int) {
            lines.append(prefix(depth) + "@\(name):")
            guard let g = inventory.groups[name] else { return }
            for c in g.children { walk(c, depth + 1) }
            if name != "all" { for h in g.hosts { lines.append(prefix(depth + 1) + h) } }
        }
        walk(group, 0)
        return lines.joined(separator: "\n")
    }

    private static func prefix(_ depth: Int) -> String {
        depth == 0 ? "" : String(repeating: "  |", count: depth) + "--"
    }

    /// Every host in Ansible's order for the pattern `all`.
    public static func allHosts(_ inventory: Inventory) -> [FleetCore.Host] {
        let byName = Dictionary(inventory.hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var names = hostsBelow("all", inventory.groups)
        // Hosts no group holds cannot come out of a loader, but a hand-built Inventory may have them.
        let listed = Set(names)
        names += inventory.hosts.map(\.name).filter { !listed.contains($0) }
        return names.compactMap { byName[$0] }
    }

    /// Hosts of `group` and its descendants, as Ansible's `Group.get_hosts()`: the group's
    /// own hosts, then breadth first through its children.
    static func hostsBelow(_ group: String, _ groups: [String: InventoryGroup]) -> [String] {
        guard let root = groups[group] else { return [] }
        var ordered = [group] + root.children
        var seen = Set(ordered)
        var level = root.children
        while !level.isEmpty {
            var next: [String] = []
            for g in level {
                for c in groups[g]?.children ?? [] where seen.insert(c).inserted {
                    ordered.append(c)
                    next.append(c)
                }
            }
            level = next
        }
        var out: [String] = []
        var present = Set<String>()
        for g in ordered { for h in groups[g]?.hosts ?? [] where present.insert(h).inserted { out.append(h) } }
        return out
    }

    /// A value as block YAML, keys sorted (PyYAML's `default_flow_style=False` layout), two
    /// spaces per level, no line folding. Written directly (a 100,000-host `--list --yaml`
    /// through Yams' node tree took 2.3 s and 400 MB; `docs/performance.md`).
    public static func yaml(_ value: VarValue) -> String {
        var out = ""
        switch value {
        case .map(let m) where !m.isEmpty: YAMLWriter.mapping(m, indent: 0, into: &out)
        case .list(let l) where !l.isEmpty: YAMLWriter.sequence(l, indent: 0, into: &out)
        default:
            YAMLWriter.scalar(value, into: &out)
            out += "\n"
        }
        return out
    }

    /// Block YAML for `yaml(_:)`: a collection's entries one per line, each nested
    /// collection on the lines after its key (or its `-`), indented two more; empty ones
    /// inline (`{}`, `[]`).
    enum YAMLWriter {
        static func mapping(_ m: [String: VarValue], indent: Int, into out: inout String) {
            let pad = String(repeating: " ", count: indent)
            for key in PythonJSON.sortedKeys(m) {
                out += pad
                string(key, into: &out)
                out += ":"
                entry(m[key]!, indent: indent, into: &out)
            }
        }

        static func sequence(_ items: [VarValue], indent: Int, into out: inout String) {
            let pad = String(repeating: " ", count: indent)
            for item in items {
                out += pad + "-"
                entry(item, indent: indent, into: &out)
            }
        }

        /// What follows `key:` or `-`: a scalar on the same line, a collection below it.
        private static func entry(_ value: VarValue, indent: Int, into out: inout String) {
            switch value {
            case .secret(let s) where s.vaultText != nil:
                // An inline `!vault` value, as ansible-inventory --yaml writes it.
                let pad = String(repeating: " ", count: indent + 2)
                out += " !vault |\n"
                for line in s.vaultText!.split(separator: "\n") { out += pad + line + "\n" }
            case .map(let m) where !m.isEmpty:
                out += "\n"
                mapping(m, indent: indent + 2, into: &out)
            case .list(let l) where !l.isEmpty:
                out += "\n"
                sequence(l, indent: indent + 2, into: &out)
            default:
                out += " "
                scalar(value, into: &out)
                out += "\n"
            }
        }

        static func scalar(_ value: VarValue, into out: inout String) {
            switch value {
            case .null: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .double(let d): out += d.isNaN ? ".nan" : d.isInfinite ? (d < 0 ? "-.inf" : ".inf") : float(d)
            case .string(let s), .unsafe(let s): string(s, into: &out)
            case .secret: out += "'" + Secret.mask.replacingOccurrences(of: "'", with: "''") + "'"
            case .list: out += "[]"
            case .map: out += "{}"
            }
        }

        /// Python's float text, with `.0` before an exponent that has no dot (`1.0e+300`), as
        /// PyYAML writes it: YAML 1.1 reads `1e+300` as a string.
        static func float(_ d: Double) -> String {
            let text = PythonJSON.float(d)
            guard !text.contains("."), let e = text.firstIndex(of: "e") else { return text }
            return text[..<e] + ".0" + text[e...]
        }

        /// Plain when both YAML 1.1 and 1.2 read it back as this string, else double-quoted
        /// with every character YAML does not call printable escaped.
        static func string(_ s: String, into out: inout String) {
            if plainIsSafe(s) {
                out += s
                return
            }
            out += "\""
            for u in s.unicodeScalars {
                switch u {
                case "\\": out += "\\\\"
                case "\"": out += "\\\""
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                case "\u{0}": out += "\\0"
                case "\u{85}": out += "\\N"
                case "\u{A0}": out += "\\_"
                case "\u{2028}": out += "\\L"
                case "\u{2029}": out += "\\P"
                default:
                    let v = u.value
                    let printable =
                        (0x20...0x7E).contains(v) || (0xA1...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v)
                        || (0x10000...0x10FFFF).contains(v)
                    if printable && v != 0xFEFF {
                        out.unicodeScalars.append(u)
                    } else if v <= 0xFF {
                        out += "\\x" + hex(v, 2)
                    } else if v <= 0xFFFF {
                        out += "\\u" + hex(v, 4)
                    } else {
                        out += "\\U" + hex(v, 8)
                    }
                }
            }
            out += "\""
        }

        private static func hex(_ v: UInt32, _ width: Int) -> String {
            let h = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, width - h.count)) + h
        }
    }

    /// Plain text that both YAML 1.1 and 1.2 readers take back as the same string.
    static func plainIsSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "_" || first == "/" else { return false }
        guard s.allSatisfy({ $0.isLetter || $0.isNumber || "_-./".contains($0) }) else { return false }
        return (try? YAMLValue.implicit(s, file: "", line: nil)) == .string(s)
            && !["y", "Y", "n", "N"].contains(s)
    }
}
