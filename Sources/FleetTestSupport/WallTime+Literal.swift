import FleetCore

/// Times written as the journal writes them, in tests: `time: "2026-12-02T03:15:01.250Z"`.
/// A literal that is not such a time stops the test at once.
extension WallTime: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let t = WallTime(iso: text) else { preconditionFailure("not an ISO-8601 UTC time: \(text)") }
        self = t
    }
}
