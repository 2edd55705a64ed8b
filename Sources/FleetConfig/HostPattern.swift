import FleetCore
import Foundation

/// Ansible host patterns (`--limit`, a playbook's `hosts:`), evaluated as Ansible's
/// InventoryManager does:
///
/// - terms are separated by `,` (or `:` when the whole is not one address or range);
/// - plain terms are applied first, then every `&term` (intersection), then every `!term`
///   (exclusion), wherever they are written; only `&`/`!` terms means `all` first;
/// - a term is a host, a group (its hosts and its descendants'), a glob (`web*`, `db?`,
///   `[ab]*`) over group and host names, or `~regex` (matched from the start of the name);
/// - a subscript picks from a term's hosts: `g[0]`, `g[-1]`, `g[1:3]` (inclusive), `g[2:]`;
/// - `@file` (in `--limit`) reads terms one per line.
///
/// Results are in Ansible's order: each term's hosts in group order, in term order.
/// Unlike Ansible, a term that names nothing is an error, not a warning: a typo in
/// `--limit` must not silently widen or empty an upgrade.
public enum HostPattern {
    /// The hosts `pattern` selects.
    public static func select(_ pattern: String, in inventory: Inventory) throws -> [FleetCore.Host] {
        try select(pattern, in: inventory, limit: nil)
    }

    /// The hosts `pattern` selects, narrowed by `limit` (Ansible's `--limit`), in the
    /// pattern's order.
    public static func select(
        _ pattern: String, in inventory: Inventory, limit: String?, label: String = "--limit"
    ) throws -> [FleetCore.Host] {
        let index = Index(inventory)
        var names = try evaluate(split(pattern), index, whole: pattern, label: label)
        if let limit {
            let allowed = Set(try evaluate(try limitTerms(limit), index, whole: limit, label: "--limit"))
            names = names.filter { allowed.contains($0) }
        }
        guard !names.isEmpty else {
            throw ConfigError(file: label, "pattern \"\(limit.map { "\(pattern)\" with --limit \"\($0)" } ?? pattern)\" matches no host")
        }
        return names.map { index.hosts[$0]! }
    }

    /// `--limit` on its own: all hosts, narrowed.
    public static func limit(_ limit: String, in inventory: Inventory) throws -> [FleetCore.Host] {
        try select("all", in: inventory, limit: limit)
    }

    /// Ansible's `split_host_pattern`.
    static func split(_ pattern: String) -> [String] {
        let parts: [String]
        if pattern.utf8.contains(UInt8(ascii: ",")) {
            parts = pattern.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else if (try? HostRange.splitPort(pattern)).map({ HostRange.isAddress($0.0) }) == true
            && !pattern.contains(where: \.isWhitespace)
        {
            parts = [pattern]  // one address, host:port or range: its colons do not separate
        } else {
            // `:`-separated, keeping bracketed expressions whole (`web[1:3]:db`).
            var out: [String] = []
            var current = ""
            var depth = 0
            for c in pattern {
                if c == "[" { depth += 1 } else if c == "]" { depth = max(0, depth - 1) }
                if depth == 0 && (c == ":" || c.isWhitespace) {
                    out.append(current); current = ""
                } else {
                    current.append(c)
                }
            }
            out.append(current)
            parts = out
        }
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `--limit` terms, with `@file` replaced by the file's lines.
    static func limitTerms(_ limit: String) throws -> [String] {
        var out: [String] = []
        for term in split(limit) {
            guard term.hasPrefix("@") else { out.append(term); continue }
            let path = String(term.dropFirst())
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw ConfigError(file: "--limit", "limit file \"\(path)\" does not exist (expected a file of host names, one per line)")
            }
            let text = try InventoryLoader.text(of: path)
            out += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return out
    }

    /// What evaluating one pattern may cost: names compared or collected, over all its
    /// terms (a glob or a regex compares every name, ~1 µs each). 100,000 `!host` terms (a
    /// `--limit @file`) each walked every host, and 20,000 globs each matched every name:
    /// hours. Now a few seconds at most; a fleet of 10,000 hosts can take 500 globs.
    static let maxCost = 5_000_000

    private static func evaluate(_ terms: [String], _ index: Index, whole: String, label: String) throws -> [String] {
        guard !terms.isEmpty else { throw ConfigError(file: label, "empty host pattern") }
        var plain = terms.filter { !$0.hasPrefix("&") && !$0.hasPrefix("!") }
        if plain.isEmpty { plain = ["all"] }
        let ordered = plain + terms.filter { $0.hasPrefix("&") } + terms.filter { $0.hasPrefix("!") }
        var hosts: [String] = []
        var present = Set<String>()
        // `&` and `!` terms are gathered and applied together, once: the same result as one
        // by one, without a pass over the hosts per term.
        var keep: Set<String>? = nil
        var drop = Set<String>()
        func apply() {
            if let k = keep { hosts.removeAll { !k.contains($0) }; present = Set(hosts); keep = nil }
            if !drop.isEmpty { hosts.removeAll { drop.contains($0) }; present.subtract(drop); drop = [] }
        }
        var cost = 0
        for term in ordered {
            if index.hosts[term] != nil {  // a plain host name is taken as the host, as Ansible does
                apply()
                if present.insert(term).inserted { hosts.append(term) }
                continue
            }
            let body = term.hasPrefix("&") || term.hasPrefix("!") ? String(term.dropFirst()) : term
            let matched = try match(body, index, whole: whole, label: label)
            cost += matched.count + (body.contains(where: { "*?[~".contains($0) }) ? index.hostOrder.count + index.groupOrder.count : 1)
            if cost > maxCost {
                throw ConfigError(
                    file: label,
                    "pattern \"\(whole.prefix(80))\(whole.count > 80 ? "…" : "")\" has too many terms: evaluating it would compare or collect more than \(maxCost) names (the limit; fewer globs, or groups)"
                )
            }
            if term.hasPrefix("!") {
                if keep != nil { apply() }
                drop.formUnion(matched)
            } else if term.hasPrefix("&") {
                keep = keep.map { $0.intersection(matched) } ?? Set(matched)
            } else {
                for h in matched where present.insert(h).inserted { hosts.append(h) }
            }
        }
        apply()
        return hosts
    }

    /// One term's hosts, subscript applied; may hold duplicates (as Ansible's, before the subscript).
    private static func match(_ term: String, _ index: Index, whole: String, label: String) throws -> [String] {
        guard !term.isEmpty else { throw ConfigError(file: label, "empty term in pattern \"\(whole)\"") }
        let (expr, slice) = try PatternSubscript.split(term, label: label)
        let isRegex = expr.hasPrefix("~")
        let matcher: (String) -> Bool
        if isRegex {
            guard let re = try? NSRegularExpression(pattern: String(expr.dropFirst())) else {
                throw ConfigError(file: label, "invalid regular expression \"\(expr)\" in pattern \"\(whole)\"")
            }
            matcher = { re.firstMatch(in: $0, options: .anchored, range: NSRange($0.startIndex..., in: $0)) != nil }
        } else if expr.contains(where: { "*?[".contains($0) }) {
            let re = try Glob.regex(expr)
            matcher = { re.firstMatch(in: $0, options: .anchored, range: NSRange($0.startIndex..., in: $0)) != nil }
        } else {
            // A plain name: the group and the host looked up, not compared with every name.
            let isGroup = index.groups[expr] != nil
            var results = isGroup ? index.groupHosts(expr) : []
            if (!isGroup || expr.contains(".")) && index.hosts[expr] != nil { results.append(expr) }
            if results.isEmpty && !isGroup {
                throw ConfigError(file: label, "\"\(term)\" in pattern \"\(whole)\" is neither a host nor a group of the inventory")
            }
            return try PatternSubscript.apply(slice, to: results, term: term, label: label)
        }
        var results: [String] = []
        let groups = index.groupOrder.filter(matcher)
        for g in groups { results += index.groupHosts(g) }
        if groups.isEmpty || isRegex || expr.contains(where: { ".?*[".contains($0) }) {
            results += index.hostOrder.filter(matcher)
        }
        if results.isEmpty && groups.isEmpty {
            throw ConfigError(file: label, "\"\(term)\" in pattern \"\(whole)\" is neither a host nor a group of the inventory")
        }
        return try PatternSubscript.apply(slice, to: results, term: term, label: label)
    }

    /// Lookups shared by every term of one evaluation.
    final class Index {
        let hosts: [String: FleetCore.Host]
        let hostOrder: [String]
        let groupOrder: [String]
        let groups: [String: InventoryGroup]
        private var cache: [String: [String]] = [:]

        init(_ inventory: Inventory) {
            var hosts: [String: FleetCore.Host] = [:]
            for h in inventory.hosts { hosts[h.name] = h }
            self.hosts = hosts
            self.hostOrder = inventory.hosts.map(\.name)
            self.groups = inventory.groups
            self.groupOrder = inventory.groupOrder
        }

        /// A group's hosts as Ansible's `Group.get_hosts()` lists them: the group's own,
        /// then its descendants' breadth first (Ansible's order between cousins depends on
        /// Python set iteration; fleetup uses declaration order).
        func groupHosts(_ group: String) -> [String] {
            if let c = cache[group] { return c }
            let out = InventoryRender.hostsBelow(group, groups)
            cache[group] = out
            return out
        }
    }
}
