/// ServerAlive keepalives of one session as pure values: the connection gives it the time
/// (monotonic ns) and what the server has sent; it says when to look next and whether to
/// send a keepalive or give the host up.
///
/// It looks every `interval` from the start: a look that finds news resets the count, one
/// without sends a keepalive, and the look after `countMax` of them gives up.
struct KeepaliveTimer: Sendable {
    /// What the server has sent, as the session can tell at one moment.
    struct Traffic: Sendable, Hashable {
        /// Bytes libssh2 has read from the socket, and when it last read some.
        var read: UInt64
        var lastReadAt: UInt64
        /// Bytes waiting unread in the socket (an idle session does not read).
        var pending: UInt64
    }

    enum Action: Sendable, Hashable { case wait, send, giveUp }

    let interval: UInt64
    let countMax: Int
    /// Keepalives sent since the last news.
    private(set) var unanswered = 0
    /// When to look next.
    private(set) var nextCheck: UInt64
    private var bytesSeen: UInt64

    init(interval: Duration, countMax: Int, now: UInt64, traffic: Traffic) {
        self.interval = interval.nanoseconds
        self.countMax = countMax
        nextCheck = now + self.interval
        bytesSeen = traffic.read + traffic.pending
    }

    /// Between looks nothing is taken note of.
    mutating func observe(now: UInt64, traffic: Traffic) {}

    /// The look at `now` (the connection calls it once `nextCheck` has come).
    mutating func check(now: UInt64, traffic: Traffic) -> Action {
        guard now >= nextCheck else { return .wait }
        nextCheck = now + interval
        let seen = traffic.read + traffic.pending
        if seen != bytesSeen {
            bytesSeen = seen
            unanswered = 0
            return .wait
        }
        if unanswered >= countMax { return .giveUp }
        unanswered += 1
        return .send
    }
}
