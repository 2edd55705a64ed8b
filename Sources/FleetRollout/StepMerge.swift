import FleetCore

/// The instructions of several releases as one list, each distinct instruction once, for a
/// cumulative hop (design.md §5.5).
///
/// "In release order" alone is ambiguous once instructions repeat: v3.0.1 says `db:migrate`,
/// v3.1.0 says `bundle install`, then `db:migrate`. Keeping the first `db:migrate` would
/// migrate before installing the gems the migration needs; keeping the last breaks the
/// opposite case. So the merge keeps every release's own order (a constraint: within a
/// release, each instruction runs after the ones written before it) and otherwise puts
/// instructions in release order of their first appearance. Worked example:
///
///     v3.0.1: migrate                        merged: bundle install
///     v3.1.0: bundle install, yarn install,          yarn install
///             migrate, precompile                    migrate
///     v3.1.2: migrate, cache clear                   precompile
///                                                    cache clear
///
/// Two releases that order the same two instructions differently cannot both be kept:
/// that is an error naming them (found by `check`, before anything runs).
/// Instructions are the same when they do the same thing (`PlannedAction.identity`, plus
/// `become`): the same command text after rendering.
enum StepMerge {
    struct Conflict: Error {
        var message: String
    }

    static func merge(_ lists: [(release: String, steps: [PlannedStep])]) throws(Conflict) -> [PlannedStep] {
        func key(_ s: PlannedStep) -> String { s.action.identity + "\u{0}\(s.become)\u{0}\(s.becomeUser ?? "")" }
        var order: [String] = []
        var step: [String: PlannedStep] = [:]
        var rank: [String: (Int, Int)] = [:]
        var next: [String: Set<String>] = [:]
        var incoming: [String: Int] = [:]
        var firstSeen: [String: [String: Int]] = [:]  // release -> key -> position
        for (r, list) in lists.enumerated() {
            var previous: String? = nil
            var seenHere: [String: Int] = [:]
            for (p, s) in list.steps.enumerated() {
                let k = key(s)
                if seenHere[k] != nil { continue }  // written twice in one release: once
                seenHere[k] = p
                // The same instruction is a point of no return if any release says so.
                if s.noReturn, step[k] != nil { step[k]!.noReturn = true }
                if step[k] == nil {
                    order.append(k)
                    step[k] = s
                    rank[k] = (r, p)
                    incoming[k] = 0
                }
                if let prev = previous, !(next[prev]?.contains(k) ?? false) {
                    next[prev, default: []].insert(k)
                    incoming[k, default: 0] += 1
                }
                previous = k
            }
            firstSeen[list.release] = seenHere
        }
        // Kahn's algorithm, always taking the ready instruction that appeared first.
        var out: [PlannedStep] = []
        var ready = Set(order.filter { incoming[$0] == 0 })
        while let k = ready.min(by: { rank[$0]! < rank[$1]! }) {
            ready.remove(k)
            out.append(step[k]!)
            for n in next[k] ?? [] {
                incoming[n]! -= 1
                if incoming[n] == 0 { ready.insert(n) }
            }
        }
        guard out.count == order.count else { throw conflict(lists, firstSeen, step) }
        return out
    }

    /// Names two releases that order two instructions differently.
    private static func conflict(
        _ lists: [(release: String, steps: [PlannedStep])], _ seen: [String: [String: Int]],
        _ step: [String: PlannedStep]
    ) -> Conflict {
        for (i, a) in lists.enumerated() {
            for b in lists[(i + 1)...] {
                let pa = seen[a.release] ?? [:], pb = seen[b.release] ?? [:]
                let common = pa.keys.filter { pb[$0] != nil }.sorted { pa[$0]! < pa[$1]! }
                for (x, first) in common.enumerated() {
                    for second in common[(x + 1)...] where pb[first]! > pb[second]! {
                        let n1 = step[first]!.name, n2 = step[second]!.name
                        return Conflict(
                            message: "releases \(a.release) and \(b.release) order the steps \"\(n1)\" and \"\(n2)\" differently; "
                                + "a cumulative path runs each once, so one order must hold for both (write them in the same order)")
                    }
                }
            }
        }
        return Conflict(
            message: "the releases' steps cannot be put in one order that keeps each release's own order "
                + "(releases \(lists.map(\.release).joined(separator: ", ")))")
    }
}
