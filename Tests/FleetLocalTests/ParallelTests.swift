import FleetLocal
import Foundation
import Synchronization
import Testing

@Suite("the one parallel map")
struct ParallelTests {
    @Test("results in item order, every item once, whatever the split", arguments: [0, 1, 7, 1000, 100_003])
    func order(count: Int) {
        let calls = Atomic<Int>(0)
        let out = Parallel.map(count) { i -> Int in
            calls.add(1, ordering: .relaxed)
            return i * 3
        }
        #expect(out == (0..<count).map { $0 * 3 })
        #expect(calls.load(ordering: .relaxed) == count)
    }

    @Test("a worker's state goes along its items in order: each sees the one before it took")
    func state() {
        // Each result records the previous item its worker handled: a worker takes one
        // contiguous run, so that is the item just before, except at a run's start.
        let out = Parallel.map(10_000, state: { -1 }) { i, previous -> Int in
            defer { previous = i }
            return previous
        }
        let starts = out.indices.filter { out[$0] == -1 }
        #expect(out.indices.allSatisfy { i in out[i] == i - 1 || starts.contains(i) })
        #expect(starts.first == 0)
        #expect(starts.count <= ProcessInfo.processInfo.activeProcessorCount)
    }
}
