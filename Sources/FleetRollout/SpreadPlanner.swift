import FleetCore

/// Batches cut by `rolling.spread` (docs/playbooks.md, "Spread"): Ansible's sizes and
/// order, except that a host whose key already has `max_per_batch` hosts in the batch
/// being filled waits for the next one, keeping its place ahead of the hosts after it.
///
/// The number of batches is Ansible's. Each batch but the last takes, in order, the first
/// hosts its limit allows, up to its size (fewer when the hosts left are all of keys it
/// is full of); the last takes every host left, and must keep the limit too: where it
/// cannot, the limit can never be met with these batches, and `problem` says so with the
/// numbers.
///
/// Worked examples, `max_per_batch: 1`, hosts in inventory order with their key:
/// - `batch: [2]`, a1 a2 b1 b2 (keys a a b b): batch 1 takes a1, a2 waits (a1 of a is in
///   batch 1), takes b1; batch 2 (the last) takes a2 b2. Batches: [a1 b1] [a2 b2].
/// - `batch: [3]`, a1 a2 a3 b1 c1 c2: [a1 b1 c1] (a2, a3 wait), then the last, [a2 a3 c2]:
///   a3 is the second of a there, so "it has 3 hosts, and 2 batches hold at most 2".
/// - `batch: [1, 3]`, e1 e2 w1 w2 x (x has no key: never limited): [e1] (full: e2 never
///   waited, it was not its turn), then [e2 w1 x]
///   (e2 may go: e1's batch is over), then the last [w2].
public enum SpreadPlanner {
    public struct Result: Sendable, Hashable {
        public var batches: [[Host]]
        /// Per batch, the hosts that waited at it, in order.
        public var deferred: [[Deferral]]
        /// Why the limit cannot be kept with these batches (nil when it is).
        public var problem: String?
    }

    public static func batches(hosts: [Host], policy: RolloutPolicy, stage: String) -> Result {
        let ordered = BatchPlanner.ordered(hosts, by: policy.order, seed: policy.seed)
        let sizes = BatchPlanner.sizes(total: ordered.count, serial: policy.batch)
        guard let spread = policy.spread else {
            let plain = BatchPlanner.batches(hosts: hosts, serial: policy.batch, order: policy.order, seed: policy.seed)
            return Result(batches: plain, deferred: plain.map { _ in [] }, problem: nil)
        }
        var keys: [String: String] = [:]
        var unknown: [SpreadKeyError] = []
        for host in ordered {
            switch spread.key(of: host) {
            case .success(let k?): keys[host.name] = k
            case .success(nil): break
            case .failure(let e): unknown.append(e)
            }
        }
        if let first = unknown.first {
            let more = unknown.count > 1 ? " (and \(unknown.count - 1) more)" : ""
            return Result(
                batches: BatchPlanner.batches(hosts: hosts, serial: policy.batch, order: policy.order, seed: policy.seed),
                deferred: sizes.map { _ in [] },
                problem: "\(spread): host \(first.host) \(first.message)\(more): a host needs one key")
        }
        var queue = ordered
        var batches: [[Host]] = []
        var deferred: [[Deferral]] = []
        var problem: String?
        for (i, size) in sizes.enumerated() {
            let last = i == sizes.count - 1
            var batch: [Host] = []
            var holders: [String: [String]] = [:]  // key -> hosts of it in this batch
            var waiting: [Deferral] = []
            var rest: [Host] = []
            for host in queue {
                if !last && batch.count == size {
                    rest.append(host)
                    continue
                }
                if let k = keys[host.name], let held = holders[k], held.count >= spread.maxPerBatch {
                    if last {
                        problem = problem ?? infeasible(spread, key: k, hosts: ordered, keys: keys, batches: sizes.count, stage: stage)
                    } else {
                        waiting.append(
                            Deferral(
                                host: host.name,
                                reason:
                                    "\(held.joined(separator: ", ")) of \(spread.by.naming(k)) \(held.count == 1 ? "is" : "are") in batch \(i + 1)"
                            ))
                        rest.append(host)
                        continue
                    }
                }
                batch.append(host)
                if let k = keys[host.name] { holders[k, default: []].append(host.name) }
            }
            batches.append(batch)
            deferred.append(waiting)
            queue = rest
        }
        return Result(batches: batches, deferred: deferred, problem: problem)
    }

    /// `spread by cluster, max_per_batch 1: stage prod's 2 batches cannot keep cluster eu
    /// apart: it has 3 hosts, and 2 batches hold at most 2 of them`.
    static func infeasible(_ spread: SpreadLimit, key: String, hosts: [Host], keys: [String: String], batches: Int, stage: String) -> String
    {
        let count = hosts.filter { keys[$0.name] == key }.count
        let room = batches * spread.maxPerBatch
        let head =
            "\(spread): stage \(stage)'s \(batches) \(batches == 1 ? "batch" : "batches") cannot keep \(spread.by.naming(key)) apart: "
        if count > room {
            return head + "it has \(count) hosts, and \(batches) \(batches == 1 ? "batch holds" : "batches hold") at most \(room) of them "
                + "(smaller batches make more of them, or raise max_per_batch)"
        }
        return head + "the last batch, which takes every host left, would hold more than \(spread.maxPerBatch) of its \(count) hosts "
            + "(smaller batches, or another order, give it room)"
    }
}
