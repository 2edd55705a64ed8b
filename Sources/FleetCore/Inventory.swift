/// One managed machine, with its variables merged in Ansible's precedence order.
public struct Host: Sendable, Hashable, Identifiable {
    /// The inventory name (`web01.example.com`, `db1`): what reports show.
    public var name: String
    /// Every variable that applies to the host: all < parent group < child group < host.
    public var vars: [String: VarValue]
    /// The groups the host belongs to, directly or through `children`, sorted by name.
    public var groups: [String]

    public var id: String { name }

    public init(name: String, vars: [String: VarValue] = [:], groups: [String] = []) {
        self.name = name
        self.vars = vars
        self.groups = groups
    }

    /// How to reach the host, read from its connection variables.
    public var connection: ConnectionSettings { ConnectionSettings(hostName: name, vars: vars) }
}

/// A group as the inventory declares it (direct members only; see `Inventory.hosts(in:)`).
public struct InventoryGroup: Sendable, Hashable {
    public var name: String
    /// Hosts listed directly in the group, in inventory order.
    public var hosts: [String]
    /// Child group names, in declaration order.
    public var children: [String]
    /// The group's own variables (not merged with parents).
    public var vars: [String: VarValue]

    public init(name: String, hosts: [String] = [], children: [String] = [], vars: [String: VarValue] = [:]) {
        self.name = name
        self.hosts = hosts
        self.children = children
        self.vars = vars
    }
}

/// A loaded inventory: hosts in inventory order, and the group tree (`all` at the root).
public struct Inventory: Sendable, Hashable {
    /// Every host, in the order it first appears in the sources.
    public var hosts: [Host]
    /// Every group by name, including `all` and `ungrouped`.
    public var groups: [String: InventoryGroup]
    /// Group names in the order the sources declare them (host patterns match groups in
    /// this order, as Ansible does).
    public var groupOrder: [String]

    public init(hosts: [Host], groups: [String: InventoryGroup], groupOrder: [String]? = nil) {
        self.hosts = hosts
        self.groups = groups
        self.groupOrder = groupOrder ?? groups.keys.sorted()
    }

    /// The host with this inventory name.
    public func host(named name: String) -> Host? { hosts.first { $0.name == name } }

    /// Hosts of a group and of all its descendants, in inventory order.
    public func hosts(in group: String) -> [Host] {
        var names = Set<String>()
        var stack = [group]
        var seen = Set<String>()
        while let g = stack.popLast() {
            guard seen.insert(g).inserted, let node = groups[g] else { continue }
            names.formUnion(node.hosts)
            stack.append(contentsOf: node.children)
        }
        if group == "all" { return hosts }
        return hosts.filter { names.contains($0.name) }
    }
}
