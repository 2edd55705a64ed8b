/// The children links of an inventory, checked as a whole when it is built: loops and
/// depth, in time linear in the links (each link used to walk every descendant of its
/// child: a chain of 16,000 groups took 56 s and 4 GB, then overflowed the stack).
struct GroupGraph {
    /// Groups in declaration order; `all` is the first.
    let names: [String]
    /// Each link as (parent, child) indices into `names`, in the order they were added.
    let links: [(parent: Int, child: Int)]

    init(names: [String], links: [(parent: String, child: String)]) {
        self.names = names
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() { index[n] = i }
        self.links = links.map { (index[$0.parent]!, index[$0.child]!) }
    }

    /// The groups in an order where every parent comes before its children (Kahn's
    /// algorithm over the first `count` links), or nil when those links hold a loop.
    func order(links count: Int) -> [Int]? {
        var children = [[Int]](repeating: [], count: names.count)
        var parents = [Int](repeating: 0, count: names.count)
        for l in links.prefix(count) {
            children[l.parent].append(l.child)
            parents[l.child] += 1
        }
        var out = (0..<names.count).filter { parents[$0] == 0 }
        var next = 0
        while next < out.count {
            for c in children[out[next]] {
                parents[c] -= 1
                if parents[c] == 0 { out.append(c) }
            }
            next += 1
        }
        return out.count == names.count ? out : nil
    }

    /// The first link, in the order they were added, that closed a loop: what checking each
    /// link as it came would have refused. Binary search over prefixes, O((V+E) log E).
    func firstLoopLink() -> Int? {
        guard order(links: links.count) == nil else { return nil }
        var low = 0, high = links.count  // the first `low` links hold no loop; the first `high` do
        while high - low > 1 {
            let mid = (low + high) / 2
            if order(links: mid) == nil { high = mid } else { low = mid }
        }
        return high - 1
    }

    /// Each group's depth as Ansible counts it: the longest path from `all` (0), groups
    /// without a parent being children of `all` (1). `order` comes from `order(links:)`.
    func depths(_ order: [Int]) -> [Int] {
        var children = [[Int]](repeating: [], count: names.count)
        for l in links { children[l.parent].append(l.child) }
        var depth = [Int](repeating: 1, count: names.count)
        depth[0] = 0
        for g in order {
            for c in children[g] where depth[c] < depth[g] + 1 { depth[c] = depth[g] + 1 }
        }
        return depth
    }
}
