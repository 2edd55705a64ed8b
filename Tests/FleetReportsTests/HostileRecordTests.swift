import Testing

@testable import FleetReports

/// A run's journal is input like any file: durations in it may be anything (scripts/fuzz
/// found `fleetup report --format junit` trapping on a negative one).
@Suite("hostile run records")
struct HostileRecordTests {
    @Test(
        "JUnit times: any duration, negative ones and Int.min included, without a trap",
        arguments: [
            (1234, "1.234"), (5, "0.005"), (0, "0.000"), (60_000, "60.000"),
            (-1, "-0.001"), (-1500, "-1.500"),  // -1500 % 1000 printed "-500": a count of -1
            (Int.min, "-9223372036854775.808"), (Int.max, "9223372036854775.807"),
        ])
    func seconds(ms: Int, text: String) {
        #expect(RunJUnit.seconds(ms) == text)
    }

    @Test(
        "step numbers: any index a journal holds, Int.max included, without an overflow",
        arguments: [
            (0, "1"), (11, "12"), (-1, "0"), (Int.max, "9223372036854775808"),
        ])
    func ordinal(index: Int, text: String) {
        #expect(RunText.ordinal(index) == text)
    }
}
