/// One host's answer to `fleetup ping`.
public struct PingResult: Sendable, Hashable {
    public var host: String
    /// The connection's facts when it worked.
    public var info: ConnectionInfo?
    /// Running `true` on the connection, once it was up.
    public var roundTrip: Duration?
    /// Why not, when it did not.
    public var error: RemoteError?

    public init(host: String, info: ConnectionInfo? = nil, roundTrip: Duration? = nil, error: RemoteError? = nil) {
        self.host = host
        self.info = info
        self.roundTrip = roundTrip
        self.error = error
    }

    public var ok: Bool { error == nil }
}
