import FleetCore

/// Splits a stage's hosts into batches with Ansible's `serial` semantics (design.md §5.1).
///
/// Each element of `serial` is a number of hosts or a percentage of ALL the stage's hosts
/// (not of those left), rounded down and at least 1; the list is a ramp whose last element
/// repeats until every host has a batch; 0 means the rest of the stage at once. Worked
/// example, 50 hosts with `[1, 5, "20%"]`: 1, then 5, then 20% of 50 = 10 again and again
/// while hosts remain: 1, 5, 10, 10, 10, 10, 4 (the last batch takes what is left).
/// `"30%"` of 20 hosts is 6: 6, 6, 6, 2. `[1, 5]` on 3 hosts: 1, 2.
///
/// Batches are computed from the stage's hosts alone, before any version is known: a
/// host already on the target keeps its place in its batch (and is skipped there).
public enum BatchPlanner {
    /// The batch sizes for `total` hosts.
    public static func sizes(total: Int, serial: [BatchSize]) -> [Int] {
        guard total > 0 else { return [] }
        let ramp = serial.isEmpty ? [BatchSize.count(0)] : serial
        var sizes: [Int] = []
        var remaining = total
        var i = 0
        while remaining > 0 {
            let size = Self.size(ramp[min(i, ramp.count - 1)], of: total)
            if size <= 0 {
                sizes.append(remaining)
                break
            }
            let n = min(size, remaining)
            sizes.append(n)
            remaining -= n
            i += 1
        }
        return sizes
    }

    /// One element of the ramp for a stage of `total` hosts (Ansible's `pct_to_int`).
    public static func size(_ element: BatchSize, of total: Int) -> Int {
        switch element {
        case .count(let n): return n
        case .percent(let p): return max(1, p * total / 100)
        }
    }

    /// The hosts in batching order.
    public static func ordered(_ hosts: [Host], by order: HostOrder, seed: UInt64 = 0) -> [Host] {
        switch order {
        case .inventory: return hosts
        case .reverse: return hosts.reversed()
        // Python's sorted() on names: code point order, as Ansible sorts.
        case .sorted: return hosts.sorted { $0.name.unicodeScalars.lexicographicallyPrecedes($1.name.unicodeScalars) }
        case .reverseSorted: return hosts.sorted { $1.name.unicodeScalars.lexicographicallyPrecedes($0.name.unicodeScalars) }
        case .shuffle:
            // Fisher-Yates with a seeded generator: the same seed gives the same order in
            // `plan` and in `run` (Ansible reshuffles every run; fleetup shows what it will do).
            var out = hosts
            var rng = SplitMix64(seed: seed)
            if out.count > 1 {
                for i in stride(from: out.count - 1, to: 0, by: -1) {
                    let j = Int(rng.next() % UInt64(i + 1))
                    out.swapAt(i, j)
                }
            }
            return out
        }
    }

    /// The stage's hosts, ordered, in batches.
    public static func batches(
        hosts: [Host], serial: [BatchSize], order: HostOrder = .inventory,
        seed: UInt64 = 0
    ) -> [[Host]] {
        let ordered = ordered(hosts, by: order, seed: seed)
        var out: [[Host]] = []
        var start = 0
        for n in sizes(total: ordered.count, serial: serial) {
            out.append(Array(ordered[start..<(start + n)]))
            start += n
        }
        return out
    }
}
