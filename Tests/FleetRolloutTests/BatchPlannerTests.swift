import FleetCore
import FleetRollout
import Testing

@Suite("batches (Ansible serial)")
struct BatchPlannerTests {
    @Test(
        "batch sizes",
        arguments: [
            // design.md §5.1: a ramp whose last element repeats; 20% of ALL 50 hosts is 10.
            (50, [BatchSize.count(1), .count(5), .percent(20)], [1, 5, 10, 10, 10, 10, 4]),
            // 30% of 20 is 6; the last batch takes what is left.
            (20, [.percent(30)], [6, 6, 6, 2]),
            // a ramp longer than the stage: the second batch takes the 2 left.
            (3, [.count(1), .count(5)], [1, 2]),
            // a plain number.
            (7, [.count(3)], [3, 3, 1]),
            // 0: the whole stage at once (Ansible's serial 0).
            (7, [.count(0)], [7]),
            // no batch given to the planner: the whole stage.
            (4, [], [4]),
            // 10% of 5 hosts is 0.5, rounded down, at least 1.
            (5, [.percent(10)], [1, 1, 1, 1, 1]),
            // 25% of 7 is 1.75: 1; 50% of 7 is 3.5: 3.
            (7, [.count(1), .percent(25), .percent(50)], [1, 1, 3, 2]),
            // 100%: everything in one batch.
            (12, [.percent(100)], [12]),
            // a ramp ending in 0 puts the rest in one batch.
            (10, [.count(1), .count(2), .count(0)], [1, 2, 7]),
            // an empty stage has no batches.
            (0, [.count(1)], []),
            // one host.
            (1, [.percent(50)], [1]),
            // percentages are of the stage, not of what is left: 40% of 10 is 4, every time.
            (10, [.percent(40)], [4, 4, 2]),
        ] as [(Int, [BatchSize], [Int])])
    func sizes(total: Int, serial: [BatchSize], expected: [Int]) {
        #expect(BatchPlanner.sizes(total: total, serial: serial) == expected)
    }

    static func hosts(_ names: [String]) -> [Host] { names.map { Host(name: $0) } }

    @Test(
        "order",
        arguments: [
            (HostOrder.inventory, ["web2", "web10", "db1", "web1"]),
            (.reverse, ["web1", "db1", "web10", "web2"]),
            // by name, code point order as Python's sorted(): "web10" before "web2".
            (.sorted, ["db1", "web1", "web10", "web2"]),
            (.reverseSorted, ["web2", "web10", "web1", "db1"]),
        ])
    func order(_ order: HostOrder, expected: [String]) {
        let hosts = Self.hosts(["web2", "web10", "db1", "web1"])
        #expect(BatchPlanner.ordered(hosts, by: order).map(\.name) == expected)
    }

    @Test("shuffle is a permutation, the same for the same seed, different for another")
    func shuffle() {
        let hosts = Self.hosts((1...30).map { "h\($0)" })
        let a = BatchPlanner.ordered(hosts, by: .shuffle, seed: 7).map(\.name)
        let b = BatchPlanner.ordered(hosts, by: .shuffle, seed: 7).map(\.name)
        let c = BatchPlanner.ordered(hosts, by: .shuffle, seed: 8).map(\.name)
        #expect(a == b)
        #expect(a != c)
        #expect(a != hosts.map(\.name))
        #expect(a.sorted() == hosts.map(\.name).sorted())
    }

    @Test("batches keep the order and cover every host once")
    func batches() {
        let hosts = Self.hosts((1...9).map { "prod0\($0)" })
        let b = BatchPlanner.batches(hosts: hosts, serial: [.count(1), .percent(25), .percent(50)])
        #expect(
            b.map { $0.map(\.name) } == [
                ["prod01"], ["prod02", "prod03"], ["prod04", "prod05", "prod06", "prod07"], ["prod08", "prod09"],
            ])
        let reversed = BatchPlanner.batches(hosts: hosts, serial: [.count(4)], order: .reverse)
        #expect(reversed.first?.map(\.name) == ["prod09", "prod08", "prod07", "prod06"])
        #expect(reversed.flatMap { $0 }.count == 9)
    }
}
