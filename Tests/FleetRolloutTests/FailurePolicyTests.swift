import FleetCore
import FleetRollout
import Testing

@Suite("failure policy (design.md §5.2)")
struct FailurePolicyTests {
    @Test(
        "halt threshold: the failures in a batch that halt the run",
        arguments: [
            // default 0%: the first failure halts, whatever the batch size.
            (0, 1, 1), (0, 5, 1), (0, 50, 1),
            // 25% of 4: 1 failure is 25%, not more; 2 halt.
            (25, 4, 2),
            // 25% of 3 is 0.75: 1 failure is more.
            (25, 3, 1),
            // 25% of 8 is 2: the third halts.
            (25, 8, 3),
            // 50% of 5 is 2.5: 3 halt.
            (50, 5, 3),
            // 33% of 3 is 0.99: the first failure (33.3%) is more.
            (33, 3, 1),
            // 99% of 100: only all 100 failing halts.
            (99, 100, 100),
            // 100%: 5 of 4 would be needed: the batch never halts on its own.
            (100, 4, 5),
            (100, 1, 2),
        ])
    func threshold(percent: Int, batch: Int, expected: Int) {
        #expect(FailurePolicy(maxFailPercentage: percent).haltThreshold(batchSize: batch) == expected)
    }

    @Test(
        "should halt",
        arguments: [
            // (max_fail_percentage, max_failures, failed in batch, batch size, failed in run, halts)
            (25, nil, 1, 4, 1, false),  // 1 of 4 at 25%: not more than 25%
            (25, nil, 2, 4, 2, true),  // 2 of 4: 50%
            (0, nil, 0, 5, 0, false),  // nothing failed
            (0, nil, 1, 5, 1, true),  // any failure halts by default
            (100, nil, 4, 4, 4, false),  // every host failed and 100% allowed: no hidden rule
            (50, 2, 1, 4, 2, false),  // 2 in all is not more than max_failures 2
            (50, 2, 1, 4, 3, true),  // the third failure in the run halts, though the batch is fine
            (50, 0, 1, 10, 1, true),  // max_failures 0: any failure halts
            (20, nil, 1, 5, 7, false),  // no run-wide limit: earlier batches' failures do not count
            (20, nil, 2, 5, 2, true),  // 2 of 5 is 40%
        ] as [(Int, Int?, Int, Int, Int, Bool)])
    func shouldHalt(percent: Int, maxFailures: Int?, failedInBatch: Int, batch: Int, total: Int, halts: Bool) {
        let p = FailurePolicy(maxFailPercentage: percent, maxFailures: maxFailures)
        #expect(p.shouldHalt(failedInBatch: failedInBatch, batchSize: batch, failedTotal: total) == halts)
    }

    @Test("the reason says which rule halted")
    func reasons() {
        let p = FailurePolicy(maxFailPercentage: 25, maxFailures: 2)
        #expect(
            p.haltReason(failedInBatch: 2, batchSize: 4, failedTotal: 2)?.description
                == "2 of 4 hosts in the batch failed, more than max_fail_percentage 25%")
        #expect(
            p.haltReason(failedInBatch: 1, batchSize: 8, failedTotal: 3)?.description
                == "3 hosts failed in the run, more than max_failures 2")
        #expect(p.runThreshold == 3)
        #expect(FailurePolicy(RolloutPolicy()).runThreshold == nil)
    }
}
