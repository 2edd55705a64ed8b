import Dispatch
import Foundation

/// The one parallel map: pure work over many items (thousands of vars files, hosts' merged
/// variables, rendered JSON values) spread over the machine's cores, results in item order.
///
/// Worker `w` of `n` takes one contiguous run of the items, in order, so a worker can carry
/// state from one item to its neighbour (`state`: hosts of one group often have the very
/// same variables); every result slot is written by exactly one worker and read only after
/// all have finished. Never from the cooperative
/// pool's threads: it blocks until the work is done (callers are synchronous loaders).
public enum Parallel {
    /// `body(i)` for every `i` in `0..<count`.
    public static func map<T>(_ count: Int, minimumPerWorker: Int = 1, _ body: (Int) -> T) -> [T] {
        map(count, minimumPerWorker: minimumPerWorker, state: { () }) { i, _ in body(i) }
    }

    /// `body(i, &state)` for every `i`, each worker with a `state` of its own (made by
    /// `state()`), passed along its items in order.
    public static func map<T, S>(
        _ count: Int, minimumPerWorker: Int = 1, state: () -> S,
        _ body: (Int, inout S) -> T
    ) -> [T] {
        guard count > 0 else { return [] }
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / max(1, minimumPerWorker)))
        let per = (count + workers - 1) / workers
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        // Each index is written by exactly one worker, and read only after all have finished.
        nonisolated(unsafe) let slots = results
        withoutActuallyEscaping(body) { body in
            withoutActuallyEscaping(state) { state in
                nonisolated(unsafe) let work = body
                nonisolated(unsafe) let makeState = state
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    var s = makeState()
                    for i in (w * per)..<min(count, (w + 1) * per) { slots[i] = work(i, &s) }
                }
            }
        }
        return results.map { $0! }
    }
}
