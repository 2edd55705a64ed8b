import FleetCore

/// Ansible host patterns (`--limit`, a playbook's `hosts:`): terms separated by `:` or `,`;
/// a plain term adds, `&term` intersects, `!term` removes. A term is `all`, `*`, a group,
/// a host, or a glob over both. Results keep inventory order.
///
/// Minimal version of the foundation issue: `~regex`, subscripts (`g[0]`) and `@file`
/// come with the full loader.
public enum HostPattern {
    public static func select(_ pattern: String, in inventory: Inventory) throws -> [Host] {
        let terms = split(pattern)
        guard !terms.isEmpty else { throw ConfigError(file: "--limit", "empty host pattern") }
        var chosen = Set<String>()
        // Ansible applies every positive term first, then the intersections, then exclusions.
        let ordered = terms.filter { !$0.hasPrefix("&") && !$0.hasPrefix("!") }
            + terms.filter { $0.hasPrefix("&") } + terms.filter { $0.hasPrefix("!") }
        for term in ordered {
            if term.hasPrefix("&") {
                chosen.formIntersection(try match(String(term.dropFirst()), inventory, whole: pattern))
            } else if term.hasPrefix("!") {
                chosen.subtract(try match(String(term.dropFirst()), inventory, whole: pattern))
            } else {
                chosen.formUnion(try match(term, inventory, whole: pattern))
            }
        }
        let hosts = inventory.hosts.filter { chosen.contains($0.name) }
        guard !hosts.isEmpty else {
            throw ConfigError(file: "--limit", "pattern \"\(pattern)\" matches no host")
        }
        return hosts
    }

    static func split(_ pattern: String) -> [String] {
        pattern.split(whereSeparator: { $0 == ":" || $0 == "," })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    private static func match(_ term: String, _ inventory: Inventory, whole: String) throws -> Set<String> {
        if term == "all" || term == "*" { return Set(inventory.hosts.map(\.name)) }
        if inventory.groups[term] != nil { return Set(inventory.hosts(in: term).map(\.name)) }
        if inventory.host(named: term) != nil { return [term] }
        if term.contains("*") || term.contains("?") {
            var names = Set(inventory.hosts.map(\.name).filter { glob(term, $0) })
            for g in inventory.groups.keys where glob(term, g) { names.formUnion(inventory.hosts(in: g).map(\.name)) }
            return names
        }
        throw ConfigError(file: "--limit", "\"\(term)\" in pattern \"\(whole)\" is neither a host nor a group of the inventory")
    }

    /// Shell-style `*` and `?` over the whole name.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
