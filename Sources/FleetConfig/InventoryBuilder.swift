import FleetCore
import FleetLocal
import Foundation

/// Collects groups, hosts and their variables from inventory sources, then merges each
/// host's variables in Ansible's order. Every source format feeds this one builder, so
/// structure rules (loops, `ungrouped`) and precedence are decided in a single place.
///
/// Precedence, lowest first, as Ansible's VariableManager applies it:
/// 1. `all`'s inline vars, 2. every other group's inline vars, 3. `group_vars/all` files,
/// 4. `group_vars/<group>` files, 5. the host's inline vars, 6. `host_vars/<host>` files.
/// Inside 2 and 4 groups are sorted by (depth below `all`, `ansible_group_priority`, name),
/// so a child beats its parent and a higher priority beats a sibling. Files are applied
/// source by source (`-i a -i b`: all of a's group files, then b's), as Ansible does.
public struct InventoryBuilder: Sendable {
    struct GroupNode: Sendable {
        var hosts: [String] = []
        var hostSet: Set<String> = []
        var children: [String] = []
        var childSet: Set<String> = []
        var parents: [String] = []
        var vars: [String: VarValue] = [:]
        var priority = 1
    }

    /// Group names in declaration order (internal: GroupGraph.swift checks the links).
    var groupOrder: [String] = []
    private var groups: [String: GroupNode] = [:]
    private var hostOrder: [String] = []
    private var hostVars: [String: [String: VarValue]] = [:]
    /// Vars from group_vars/host_vars files, one layer per inventory source, in `-i` order.
    private var groupFileVars: [[String: [String: VarValue]]] = []
    private var hostFileVars: [[String: [String: VarValue]]] = []
    /// Every children link in the order it was added, with where it was written: loops and
    /// depth are checked once, in `build()`, against all of them.
    var links: [(parent: String, child: String, origin: Origin?)] = []

    /// Where a children link was written, for the errors `build()` finds.
    public struct Origin: Sendable, Hashable {
        public var file: String
        public var line: Int?
        public init(file: String, line: Int?) {
            self.file = file
            self.line = line
        }
    }

    public init() {
        addGroup("all")
        addGroup("ungrouped")
        try! addChild("ungrouped", to: "all")  // cannot loop: both are new
    }

    public var groupNames: [String] { groupOrder }
    public var hostNames: [String] { hostOrder }

    /// Items (lines, entries, variables) of every file read into this inventory so far,
    /// against `ConfigLimits.totalItems`.
    public private(set) var items = 0
    /// While set (a vault-encrypted inventory file is read), every variable value set is
    /// made a secret.
    public var sealing = false

    /// Counts a file's items; the problem when the inventory's files hold too many in all.
    public mutating func count(items n: Int, label: String) throws(ConfigError) {
        items += n
        if items > ConfigLimits.totalItems {
            throw ConfigError(
                file: label,
                "more than \(ConfigLimits.totalItems) items (lines, entries, variables) in all the inventory's files (the limit: what stays loaded)"
            )
        }
    }

    /// Nil while the inventory holds at most `ConfigLimits.hosts` hosts; else the problem,
    /// for the reader to place at the line that went past the limit.
    public var tooManyHosts: String? {
        hostOrder.count <= ConfigLimits.hosts
            ? nil
            : "more than \(ConfigLimits.hosts) hosts in the inventory (the limit: ten times the largest fleet fleetup is made for)"
    }

    /// The same for groups (`ConfigLimits.groups`).
    public var tooManyGroups: String? { groupOrder.count <= ConfigLimits.groups ? nil : Self.groupsProblem }

    static let groupsProblem =
        "more than \(ConfigLimits.groups) groups in the inventory (the limit: one per host at the hosts limit, and as many again)"
    public func hasGroup(_ name: String) -> Bool { groups[name] != nil }
    public func hasHost(_ name: String) -> Bool { hostVars[name] != nil }

    /// Declares a group (idempotent).
    public mutating func addGroup(_ name: String) {
        guard groups[name] == nil else { return }
        groups[name] = GroupNode()
        groupOrder.append(name)
    }

    /// Adds a host to a group (declaring both). A port applies only where the host is
    /// first declared, as in Ansible; the result is false when a later port was ignored.
    @discardableResult
    public mutating func addHost(
        _ name: String, to group: String, port: Int? = nil,
        vars: [String: VarValue] = [:]
    ) -> Bool {
        addGroup(group)
        let vars = sealing ? vars.mapValues(\.sealed) : vars
        var portTaken = true
        if let known = hostVars[name] {
            if let port, known["ansible_port"] != .int(port) { portTaken = false }
            if !vars.isEmpty { hostVars[name]!.merge(vars) { _, new in new } }
        } else {
            var own = vars
            // The port is set first, so an explicit ansible_port=... on the same line wins.
            if let port, vars["ansible_port"] == nil { own["ansible_port"] = .int(port) }
            hostVars[name] = own
            hostOrder.append(name)
        }
        if groups[group]!.hostSet.insert(name).inserted { groups[group]!.hosts.append(name) }
        return portTaken
    }

    /// Makes `child` a child group of `parent`, written at `origin`. A group as its own child,
    /// or `all` as anyone's, is refused at once; a longer loop (Ansible: "creates a recursive
    /// dependency loop") by `build()`, naming the link that closed it.
    public mutating func addChild(_ child: String, to parent: String, at origin: Origin? = nil) throws(LoopError) {
        addGroup(parent)
        addGroup(child)
        guard !groups[parent]!.childSet.contains(child) else { return }
        // `all` is every group's ancestor: below another group it would be its own
        // (`[g:children]` naming all once overflowed the stack).
        if child == parent || child == "all" { throw LoopError(parent: parent, child: child) }
        groups[parent]!.children.append(child)
        groups[parent]!.childSet.insert(child)
        groups[child]!.parents.append(parent)
        links.append((parent, child, origin))
    }

    /// A children link that would make a group its own ancestor.
    public struct LoopError: Error, Sendable {
        public let parent: String, child: String
        public var message: String {
            if parent == child { return "group \"\(child)\" cannot be a child of itself" }
            if child == "all" {
                return "group \"all\" cannot be a child of \"\(parent)\": every group is below all, so all would be its own ancestor"
            }
            return
                "group \"\(child)\" cannot be a child of \"\(parent)\": \"\(parent)\" is already below it, so \"\(child)\" would be its own ancestor (a children loop)"
        }
    }

    private func isDescendant(_ group: String, of ancestor: String) -> Bool {
        var seen = Set<String>()
        var stack = groups[ancestor]?.children ?? []
        while let g = stack.popLast() {
            if g == group { return true }
            if seen.insert(g).inserted { stack.append(contentsOf: groups[g]?.children ?? []) }
        }
        return false
    }

    /// Sets one inline group variable. `ansible_group_priority` is not a variable but the
    /// group's priority (as in Ansible); nil is returned when it is not a whole number.
    @discardableResult
    public mutating func setGroupVar(_ group: String, _ key: String, _ value: VarValue) -> Bool {
        addGroup(group)
        if key == "ansible_group_priority" {
            guard let p = Self.integer(value) else { return false }
            groups[group]!.priority = p
            return true
        }
        groups[group]!.vars[key] = sealing ? value.sealed : value
        return true
    }

    /// Sets a group's inline variables (later sources win, key by key).
    public mutating func setGroupVars(_ group: String, _ vars: [String: VarValue]) {
        for (k, v) in vars { setGroupVar(group, k, v) }
    }

    /// Sets one inline host variable (the host must exist).
    public mutating func setHostVar(_ host: String, _ key: String, _ value: VarValue) {
        hostVars[host]?[key] = sealing ? value.sealed : value
    }

    /// Vars read from `group_vars/<group>` of inventory source number `source`.
    public mutating func addGroupFileVars(_ group: String, source: Int, _ vars: [String: VarValue]) {
        while groupFileVars.count <= source { groupFileVars.append([:]) }
        groupFileVars[source][group, default: [:]].merge(vars) { _, new in new }
    }

    /// Vars read from `host_vars/<host>` of inventory source number `source`.
    public mutating func addHostFileVars(_ host: String, source: Int, _ vars: [String: VarValue]) {
        while hostFileVars.count <= source { hostFileVars.append([:]) }
        hostFileVars[source][host, default: [:]].merge(vars) { _, new in new }
    }

    /// Names of groups that are their own ancestors (kept for callers of the minimal API;
    /// `addChild` already refuses such links, so this is empty).
    public func cycles() -> [String] {
        groupOrder.filter { isDescendant($0, of: $0) }
    }

    /// The finished inventory, reconciled as Ansible does: groups without a parent hang
    /// under `all`; a host in no group but `all` is in `ungrouped`, and `ungrouped` loses
    /// hosts that are in another group.
    /// `label` names the inventory in errors about it as a whole (the `-i` sources).
    public consuming func build(label: String = "inventory") throws(ConfigError) -> Inventory {
        let depth = try checkLinks()
        var groups = self.groups
        for name in groupOrder where name != "all" && groups[name]!.parents.isEmpty {
            groups["all"]!.children.append(name)
            groups[name]!.parents.append("all")
        }
        var directGroups: [String: [String]] = [:]
        for name in groupOrder { for h in groups[name]!.hosts { directGroups[h, default: []].append(name) } }
        var ungrouped = groups["ungrouped"]!
        var keep: [String] = []
        for h in ungrouped.hosts where !(directGroups[h] ?? []).contains(where: { $0 != "all" && $0 != "ungrouped" }) {
            keep.append(h)
        }
        // A host taken out of `ungrouped` is no member of it any more: its vars do not apply
        // (Ansible computes membership after this, too).
        if keep.count != ungrouped.hosts.count {
            let kept = Set(keep)
            for h in ungrouped.hosts where !kept.contains(h) { directGroups[h]?.removeAll { $0 == "ungrouped" } }
        }
        ungrouped.hosts = keep
        ungrouped.hostSet = Set(keep)
        for h in hostOrder where !(directGroups[h] ?? []).contains(where: { $0 != "all" }) && !ungrouped.hostSet.contains(h) {
            ungrouped.hosts.append(h)
            ungrouped.hostSet.insert(h)
            directGroups[h, default: []].append("ungrouped")
        }
        groups["ungrouped"] = ungrouped

        var ancestorsCache: [String: Set<String>] = [:]
        func ancestors(_ g: String) -> Set<String> {
            if let a = ancestorsCache[g] { return a }
            var out: Set<String> = [g]
            for p in groups[g]!.parents { out.formUnion(ancestors(p)) }
            ancestorsCache[g] = out
            return out
        }
        // Hosts with the same direct groups share their group list and its merged group
        // vars (10,000 hosts in ~200 groups: 200 merges, not 10,000).
        var groupCache: [[String]: (groups: [String], vars: [String: VarValue])] = [:]
        for name in hostOrder {
            let direct = directGroups[name] ?? []
            guard groupCache[direct] == nil else { continue }
            var member = Set<String>()
            for g in direct { member.formUnion(ancestors(g)) }
            member.remove("all")
            let ordered = member.sorted { a, b in
                let da = depth[a] ?? 0, db = depth[b] ?? 0
                if da != db { return da < db }
                let pa = groups[a]!.priority, pb = groups[b]!.priority
                if pa != pb { return pa < pb }
                return PythonJSON.codePointLess(a, b)
            }
            var vars = groups["all"]!.vars
            for g in ordered { vars.merge(groups[g]!.vars) { _, new in new } }
            for layer in groupFileVars { if let v = layer["all"] { vars.merge(v) { _, new in new } } }
            for layer in groupFileVars { for g in ordered { if let v = layer[g] { vars.merge(v) { _, new in new } } } }
            groupCache[direct] = (ordered.sorted(by: PythonJSON.codePointLess), vars)
        }
        // What merging will hold: a host with variables of its own (or files) gets a copy of
        // its groups' variables. Counted first, so that 100,000 hosts under a group of
        // 100,000 variables are an error, not 10^10 entries.
        var merged = groupCache.values.reduce(0) { $0 + $1.vars.count }
        for name in hostOrder {
            let own = hostVars[name]?.count ?? 0, files = hostFileVars.reduce(0) { $0 + ($1[name]?.count ?? 0) }
            if own + files > 0 { merged += groupCache[directGroups[name] ?? []]!.vars.count + own + files }
            if merged > ConfigLimits.mergedVariables {
                throw ConfigError(
                    file: label,
                    "the hosts' variables add up to more than \(ConfigLimits.mergedVariables) once merged (the limit: each host with variables of its own holds a copy of its groups' variables)"
                )
            }
        }
        // Each host's own layers on top of its shared part, on every core for big fleets.
        // Each host's own variables are moved out of the builder and dropped once merged:
        // the builder's copies and the hosts' merged ones are never all held at once.
        let count = hostOrder.count
        let owned = UnsafeMutableBufferPointer<[String: VarValue]>.allocate(capacity: count)
        defer { owned.deallocate() }
        for (i, name) in hostOrder.enumerated() { (owned.baseAddress! + i).initialize(to: hostVars.removeValue(forKey: name) ?? [:]) }
        nonisolated(unsafe) let slots = owned  // each index is moved out by exactly one worker
        let shared = groupCache, files = hostFileVars, direct = directGroups, names = hostOrder
        let hosts = Self.parallelMap(count) {
            (i: Int, previous: inout (host: FleetCore.Host, own: [String: VarValue], files: Bool)?) -> FleetCore.Host in
            let name = names[i]
            let base = shared[direct[name] ?? []]!
            let mine = (slots.baseAddress! + i).move()
            let hasFiles = files.contains { $0[name] != nil }
            // The hosts of one range line have the same groups and the same own vars (one
            // shared copy): they get one shared merged copy too, which later compares and
            // prints at the cost of a pointer check.
            if !hasFiles, let p = previous, !p.files, p.host.groups == base.groups, p.own == mine {
                let host = FleetCore.Host(name: name, vars: p.host.vars, groups: base.groups)
                previous = (host, mine, false)
                return host
            }
            var vars = base.vars
            for (k, v) in mine { vars[k] = v }
            for layer in files { if let file = layer[name] { for (k, v) in file { vars[k] = v } } }
            let host = FleetCore.Host(name: name, vars: vars, groups: base.groups)
            previous = (host, mine, hasFiles)
            return host
        }
        var out: [String: InventoryGroup] = [:]
        for name in groupOrder {
            let g = groups[name]!
            out[name] = InventoryGroup(name: name, hosts: g.hosts, children: g.children, vars: g.vars)
        }
        return Inventory(hosts: hosts, groups: out, groupOrder: groupOrder)
    }

    /// `(0..<count).map(f)`, in order, spread over the cores when there are enough items
    /// to pay for it (1,024 per worker); `f` keeps a state of its own per worker (nil at a
    /// worker's start), each worker taking one contiguous run of indices.
    static func parallelMap<T, S>(_ count: Int, _ f: (Int, inout S?) -> T) -> [T] {
        Parallel.map(count, minimumPerWorker: 1024, state: { S?.none }, f)
    }

    /// Declaration order of the groups, for outputs that follow it.
    public var declarationOrder: [String] { groupOrder }

    /// `ansible_group_priority` as Ansible's `int(value)` reads it.
    static func integer(_ v: VarValue) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .double(let d): return Int(exactly: d.rounded(.towardZero))  // nil past 64 bits (1e308 trapped), inf, nan
        case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }
}
