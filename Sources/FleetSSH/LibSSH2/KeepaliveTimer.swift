/// ServerAlive keepalives of one session, counted as OpenSSH counts them, as pure values:
/// the connection gives it the time (monotonic ns) and what the server has sent; it says
/// when to look next and whether to send a keepalive or give the host up.
///
/// OpenSSH (clientloop.c) looks `interval` after the server was last heard from, or after
/// its last keepalive; each look without news sends one, and the look after `countMax` of
/// them gives up. A host that goes silent at T is given up at T + interval × (countMax + 1)
/// (15 s × 3: 60 s), never later. So this timer keeps `lastHeard` — when the server last
/// sent anything — and schedules every look from it, not from a tick of its own.
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
    /// When the server last sent anything, never later than it did.
    private(set) var lastHeard: UInt64
    /// Keepalives sent since then.
    private(set) var unanswered = 0
    private var lastSent: UInt64?
    /// libssh2 cannot send yet (see `check`): look again then.
    private var deferredTo: UInt64?
    /// The traffic at the last look, and when that was.
    private var seen: Traffic
    private var seenAt: UInt64

    init(interval: Duration, countMax: Int, now: UInt64, traffic: Traffic) {
        self.interval = interval.nanoseconds
        self.countMax = countMax
        lastHeard = now
        seen = traffic
        seenAt = now
    }

    /// When to look next: an interval after the server was last heard from for the first
    /// keepalive, one more per keepalive since; and never sooner than an interval after the
    /// last keepalive, which must have had its time to be answered.
    var nextCheck: UInt64 {
        if let deferredTo { return deferredTo }
        let due = lastHeard + interval * UInt64(unanswered + 1)
        return lastSent.map { max(due, $0 + interval) } ?? due
    }

    /// Takes note of what the server sent since the last look. The connection also calls
    /// it when a command starts on an idle session, before libssh2 reads what waited in the
    /// socket (after that, the read time would be taken for the arrival time).
    mutating func observe(now: UInt64, traffic: Traffic) {
        defer { (seen, seenAt) = (traffic, now) }
        guard traffic.read + traffic.pending != seen.read + seen.pending else { return }
        // Something arrived after the last look. Bytes read beyond what was waiting then were
        // read as they came (a session with a command reads at once): their read time is
        // when they arrived. Bytes that wait unread only say "after the last look".
        var heard = seenAt
        if traffic.read > seen.read + seen.pending { heard = max(heard, traffic.lastReadAt) }
        lastHeard = max(lastHeard, heard)
        unanswered = 0
        lastSent = nil
        deferredTo = nil
    }

    /// The look at `now` (the connection calls it once `nextCheck` has come). `sendableAt`
    /// is when libssh2 will next send a keepalive (nil: now); until then a keepalive is not
    /// sent, and so not counted: the timer looks again at that time.
    mutating func check(now: UInt64, traffic: Traffic, sendableAt: UInt64? = nil) -> Action {
        observe(now: now, traffic: traffic)
        if let d = deferredTo, now >= d { deferredTo = nil }
        guard now >= nextCheck else { return .wait }
        if unanswered >= countMax { return .giveUp }
        if let at = sendableAt, at > now {
            deferredTo = at
            return .wait
        }
        unanswered += 1
        lastSent = now
        return .send
    }
}

/// libssh2 1.10's own rule for `libssh2_keepalive_send`: it sends only when its interval (2 s
/// at least: 1 is taken as 2) has passed since its last keepalive, in whole seconds of
/// time(); otherwise it returns 0 having sent nothing, and a keepalive counted as sent
/// would make a live host look silent. fleetup's timer decides when to send, so libssh2 is
/// given that minimum, and asked only when this rule lets it send.
struct LibSSH2KeepaliveGate: Sendable {
    /// What fleetup configures (`libssh2_keepalive_config`).
    static let seconds = 2
    /// A little after the second begins, so that time() has turned too.
    static let margin: UInt64 = 10_000_000
    /// time() read just after the last keepalive: libssh2 read its own during the call, at
    /// most this one.
    private(set) var lastSentSecond: Int?

    /// When (monotonic, from `now`) libssh2 will send again, given time() (`second`) read
    /// now, before asking it, and how far into that second the clock is; nil when it will now.
    func sendableAt(now: UInt64, second: Int, nanosecond: Int) -> UInt64? {
        guard let last = lastSentSecond, second < last + Self.seconds else { return nil }
        let rest = UInt64(last + Self.seconds - second) * 1_000_000_000 - UInt64(min(max(nanosecond, 0), 999_999_999))
        return now + rest + Self.margin
    }

    mutating func sent(second: Int) { lastSentSecond = second }
}
