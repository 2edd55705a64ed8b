import FleetCore
import Testing

/// Durations past `DurationText.maximum` (30 days) are refused, never converted: the
/// conversion to whole milliseconds used to trap on `99999999999999999999d` (issue 18).
@Suite("duration limits")
struct DurationLimitTests {
    @Test(
        "written durations: accepted up to 30 days, refused past it",
        arguments: [
            ("30d", Result<Duration, DurationText.Problem>.success(.seconds(2_592_000))),  // the maximum itself
            ("720h", .success(.seconds(2_592_000))),  // the same, in hours
            ("2592000", .success(.seconds(2_592_000))),  // bare seconds
            ("30d1ms", .failure(.tooLong)),  // one millisecond past it
            ("31d", .failure(.tooLong)),
            ("99999999999999999999d", .failure(.tooLong)),  // the trap
            (String(repeating: "9", count: 400), .failure(.tooLong)),  // Double says inf
            (String(repeating: "9", count: 400) + "ms", .failure(.tooLong)),
            ("1e300s", .failure(.notADuration)),  // no exponents
            ("nan", .failure(.notADuration)),
            ("inf", .failure(.notADuration)),
        ])
    func written(text: String, expected: Result<Duration, DurationText.Problem>) {
        #expect(DurationText.read(text) == expected)
    }

    @Test(
        "seconds from the command line: positive, finite, at most 30 days",
        arguments: [
            (2.5, Duration?.some(.milliseconds(2500))),
            (2_592_000, .some(.seconds(2_592_000))),
            (2_592_000.001, nil),
            (1e300, nil),  // --timeout 1e300 trapped
            (.infinity, nil),  // --connect-timeout inf trapped
            (.nan, nil),
            (0, nil),
            (-1, nil),
        ])
    func seconds(value: Double, expected: Duration?) {
        #expect(DurationText.seconds(value) == expected)
    }

    @Test("the message names the limit")
    func message() {
        #expect(DurationText.expected(.tooLong) == "expected a duration of at most 30d (the longest fleetup accepts)")
    }
}
