import FleetCore

/// Collects groups, hosts and their own variables from inventory sources, then merges
/// each host's variables in Ansible's order. Every source format feeds this one builder,
/// so precedence is decided in a single place.
public struct InventoryBuilder: Sendable {
    private var groupOrder: [String] = ["all", "ungrouped"]
    private var groups: [String: InventoryGroup] = [
        "all": InventoryGroup(name: "all"), "ungrouped": InventoryGroup(name: "ungrouped"),
    ]
    private var hostOrder: [String] = []
    private var hostVars: [String: [String: VarValue]] = [:]

    public init() {}

    /// Declares a group (idempotent).
    public mutating func addGroup(_ name: String) {
        guard groups[name] == nil else { return }
        groups[name] = InventoryGroup(name: name)
        groupOrder.append(name)
    }

    /// Adds a host to a group (and declares both); later variables win over earlier ones.
    public mutating func addHost(_ name: String, to group: String, vars: [String: VarValue] = [:]) {
        addGroup(group)
        if hostVars[name] == nil {
            hostVars[name] = [:]
            hostOrder.append(name)
        }
        if !groups[group]!.hosts.contains(name) { groups[group]!.hosts.append(name) }
        hostVars[name]!.merge(vars) { _, new in new }
    }

    /// Makes `child` a child group of `parent`.
    public mutating func addChild(_ child: String, to parent: String) {
        addGroup(parent)
        addGroup(child)
        if !groups[parent]!.children.contains(child) { groups[parent]!.children.append(child) }
    }

    /// Sets a group's own variables (later sources win, key by key).
    public mutating func setGroupVars(_ group: String, _ vars: [String: VarValue]) {
        addGroup(group)
        groups[group]!.vars.merge(vars) { _, new in new }
    }

    /// Names of groups that are their own ancestors (Ansible refuses such inventories).
    public func cycles() -> [String] {
        groupOrder.filter { g in
            var seen = Set<String>()
            var stack = groups[g]?.children ?? []
            while let c = stack.popLast() {
                if c == g { return true }
                if seen.insert(c).inserted { stack.append(contentsOf: groups[c]?.children ?? []) }
            }
            return false
        }
    }

    /// The finished inventory. Groups without a parent hang under `all`; hosts in no group
    /// but `all` are in `ungrouped`. A host's variables are merged as Ansible does: groups
    /// sorted by (depth below `all`, `ansible_group_priority`, name), each overriding the
    /// ones before it, then the host's own variables last.
    public func build() -> Inventory {
        var groups = self.groups
        let hasParent = Set(groups.values.flatMap(\.children))
        for name in groupOrder where name != "all" && !hasParent.contains(name) && !groups["all"]!.children.contains(name) {
            groups["all"]!.children.append(name)
        }
        let grouped = Set(groups.filter { $0.key != "all" && $0.key != "ungrouped" }.values.flatMap(\.hosts))
        for h in hostOrder where !grouped.contains(h) && !groups["ungrouped"]!.hosts.contains(h) {
            groups["ungrouped"]!.hosts.append(h)
        }
        // As Ansible shows it: `all` holds groups only; its direct hosts are in `ungrouped`.
        groups["all"]!.hosts = []

        let depth = Self.depths(groups)
        var parents: [String: [String]] = [:]
        for g in groups.values { for c in g.children { parents[c, default: []].append(g.name) } }
        var directGroups: [String: [String]] = [:]
        for g in groups.values { for h in g.hosts { directGroups[h, default: []].append(g.name) } }

        let hosts = hostOrder.map { name -> Host in
            // Every group the host is in, directly or through children.
            var member = Set<String>(["all"])
            var stack = directGroups[name] ?? []
            while let g = stack.popLast() {
                if member.insert(g).inserted { stack.append(contentsOf: parents[g] ?? []) }
            }
            let ordered = member.sorted { a, b in
                let ka = (depth[a] ?? 0, Self.priority(groups[a]), a)
                let kb = (depth[b] ?? 0, Self.priority(groups[b]), b)
                return ka < kb
            }
            var vars: [String: VarValue] = [:]
            for g in ordered { vars.merge(groups[g]?.vars ?? [:]) { _, new in new } }
            vars.merge(hostVars[name] ?? [:]) { _, new in new }
            return Host(name: name, vars: vars, groups: member.filter { $0 != "all" }.sorted())
        }
        return Inventory(hosts: hosts, groups: groups)
    }

    /// The longest path from `all` to each group (Ansible's group depth).
    private static func depths(_ groups: [String: InventoryGroup]) -> [String: Int] {
        var depth: [String: Int] = ["all": 0]
        var frontier = ["all"]
        var rounds = 0
        while !frontier.isEmpty && rounds <= groups.count {
            rounds += 1
            var next: [String] = []
            for g in frontier {
                for c in groups[g]?.children ?? [] where (depth[c] ?? -1) < depth[g]! + 1 {
                    depth[c] = depth[g]! + 1
                    next.append(c)
                }
            }
            frontier = next
        }
        return depth
    }

    private static func priority(_ group: InventoryGroup?) -> Int {
        group?.vars["ansible_group_priority"]?.intValue ?? 1
    }
}
