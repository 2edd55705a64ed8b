import Testing

@testable import FleetSSH

/// A session on a simulated clock, driven as SSHConnection drives its KeepaliveTimer: the
/// server's bytes arrive (read at once while a command runs, left waiting in the socket while
/// idle), keepalives are answered after `answerDelay` until the host freezes, and the timer
/// is asked at its `nextCheck`. No real time passes: the figures are exact.
struct KeepaliveSim {
    enum Event { case output, start, stop, freeze }

    var timer: KeepaliveTimer
    var traffic = KeepaliveTimer.Traffic(read: 0, lastReadAt: 0, pending: 0)
    var active = false
    var frozen = false
    var answerDelay: UInt64 = ms(10)
    var answers: [UInt64] = []
    /// Keepalives sent, when the host was last heard from, when it was given up.
    var sends: [UInt64] = []
    var lastArrival: UInt64 = 0
    var gaveUpAt: UInt64?
    /// With `wallOffset` set, libssh2's own rule (LibSSH2KeepaliveGate) holds, the wall clock
    /// being the simulated one plus that offset; `sentSeconds` are the wall seconds of sends.
    var wallOffset: UInt64?
    var gate = LibSSH2KeepaliveGate()
    var sentSeconds: [Int] = []

    init(interval: Duration = .seconds(10), countMax: Int = 3) {
        timer = KeepaliveTimer(interval: interval, countMax: countMax, now: 0, traffic: traffic)
    }

    static func ms(_ v: Double) -> UInt64 { UInt64((v * 1_000_000).rounded()) }
    static func s(_ v: Double) -> UInt64 { UInt64((v * 1_000_000_000).rounded()) }

    mutating func arrive(_ t: UInt64, bytes: UInt64 = 100) {
        guard !frozen else { return }
        lastArrival = t
        if active { traffic.read += bytes; traffic.lastReadAt = t } else { traffic.pending += bytes }
    }

    /// Runs `events` (in time order) until the timer gives up or `end`.
    mutating func run(_ events: [(UInt64, Event)], until end: UInt64) {
        var events = events[...]
        while gaveUpAt == nil {
            let check = timer.nextCheck, answer = answers.first ?? .max, event = events.first?.0 ?? .max
            let t = min(check, answer, event)
            guard t <= end else { return }
            if answer == t {
                answers.removeFirst()
                arrive(t)
            } else if event == t {
                switch events.removeFirst().1 {
                case .output: arrive(t)
                case .start:
                    // As SSHConnection.enqueue: look before libssh2 reads what waited.
                    timer.observe(now: t, traffic: traffic)
                    active = true
                    traffic.read += traffic.pending
                    if traffic.pending > 0 { traffic.lastReadAt = t }
                    traffic.pending = 0
                case .stop: active = false
                case .freeze: frozen = true
                }
            } else {
                let wall = wallOffset.map { t + $0 }
                let sendable = wall.flatMap {
                    gate.sendableAt(now: t, second: Int($0 / 1_000_000_000), nanosecond: Int($0 % 1_000_000_000))
                }
                switch timer.check(now: t, traffic: traffic, sendableAt: sendable) {
                case .wait: break
                case .send:
                    if let wall {
                        gate.sent(second: Int(wall / 1_000_000_000))
                        sentSeconds.append(Int(wall / 1_000_000_000))
                    }
                    sends.append(t)
                    if !frozen { answers.append(t + answerDelay) }
                case .giveUp: gaveUpAt = t
                }
            }
        }
    }
}

@Suite("keepalive timer")
struct KeepaliveTimerTests {
    typealias Sim = KeepaliveSim

    @Test("a host frozen mid-command is given up interval × (countMax + 1) after its last output, as OpenSSH does")
    func frozenMidCommand() {
        var sim = Sim()
        // A command prints every 2 s; its last output is at 25.3 s, then the host freezes.
        let outputs = stride(from: 1.3, through: 25.3, by: 2).map { (Sim.s($0), Sim.Event.output) }
        sim.run([(Sim.s(0.5), .start)] + outputs + [(Sim.s(26), .freeze)], until: Sim.s(600))
        // The first keepalive an interval after the last output, not at a tick of its own.
        #expect(sim.sends == [35.3, 45.3, 55.3].map(Sim.s))
        #expect(sim.gaveUpAt == Sim.s(65.3))
    }

    @Test("a host frozen between commands, after answering keepalives, is given up within the bound of its last answer")
    func frozenWhileIdle() throws {
        var sim = Sim()
        sim.run(
            [(Sim.s(0.5), .start), (Sim.s(1), .output), (Sim.s(3), .output), (Sim.s(3), .stop), (Sim.s(47), .freeze)],
            until: Sim.s(600))
        let gaveUp = try #require(sim.gaveUpAt)
        // Its last answer came 10 ms after the keepalive at 43 s.
        #expect(sim.lastArrival == Sim.s(43) + Sim.ms(10))
        #expect(gaveUp <= sim.lastArrival + Sim.s(40))
        // Fair: three keepalives after it, each given a whole interval.
        let after = sim.sends.filter { $0 > sim.lastArrival }
        #expect(after == [53, 63, 73].map(Sim.s))
        #expect(gaveUp == Sim.s(83))
    }

    @Test("a command starts on an idle session and reads an answer that waited in the socket, then the host freezes")
    func staleAnswerRead() {
        var sim = Sim()
        // The keepalive at 10 s is answered at 10.01 s; the answer waits unread until the
        // command at 14 s reads it. The host was last heard from at 10.01 s, not 14 s.
        sim.run([(Sim.s(14), .start), (Sim.s(14.5), .freeze)], until: Sim.s(600))
        #expect(sim.lastArrival == Sim.s(10) + Sim.ms(10))
        #expect(sim.sends == [10, 20, 30, 40].map(Sim.s))
        #expect(sim.gaveUpAt == Sim.s(50))
    }

    @Test("a host that answers stays up, idle for an hour: one keepalive an interval, as OpenSSH")
    func aliveIdle() {
        var sim = Sim()
        sim.run([], until: Sim.s(3600))
        #expect(sim.gaveUpAt == nil)
        #expect(sim.sends.count == 360)
    }

    @Test("no keepalive while a command's output flows")
    func busy() {
        var sim = Sim()
        let outputs = stride(from: 1.0, through: 1000, by: 2).map { (Sim.s($0), Sim.Event.output) }
        sim.run([(Sim.s(0.5), .start)] + outputs, until: Sim.s(1000))
        #expect(sim.sends.isEmpty && sim.gaveUpAt == nil)
    }

    @Test("ServerAliveCountMax 0: given up an interval after the last traffic, nothing sent")
    func countMaxZero() {
        var sim = Sim(countMax: 0)
        sim.run([(Sim.s(0.5), .start), (Sim.s(2), .output), (Sim.s(2.5), .freeze)], until: Sim.s(600))
        #expect(sim.sends.isEmpty)
        #expect(sim.gaveUpAt == Sim.s(12))
    }

    @Test(
        "an interval under libssh2's 2 s minimum: every keepalive is one libssh2 really sends, and each has its interval",
        arguments: [0, 250, 999])
    func shortInterval(phaseMs: Int) throws {
        // 1 s × 2, the wall clock's seconds starting `phaseMs` into the simulated second.
        var sim = Sim(interval: .seconds(1), countMax: 2)
        sim.wallOffset = Sim.ms(Double(1000 - phaseMs)) + Sim.s(1_000)
        sim.run([(Sim.s(0.1), .start), (Sim.s(2.5), .output), (Sim.s(2.6), .freeze)], until: Sim.s(600))
        let gaveUp = try #require(sim.gaveUpAt)
        let after = sim.sends.filter { $0 > sim.lastArrival }
        #expect(after.count == 2)
        // libssh2 sends only 2 whole wall seconds after its last keepalive: none was asked sooner.
        #expect(zip(sim.sentSeconds, sim.sentSeconds.dropFirst()).allSatisfy { $1 >= $0 + 2 })
        #expect(gaveUp >= after.last! + Sim.s(1))
        // Late by at most what that minimum costs: under 2 s per keepalive on top of interval × 3.
        #expect(gaveUp < sim.lastArrival + Sim.s(3) + 2 * Sim.s(2))
    }
}

@Suite("libssh2's keepalive rule")
struct LibSSH2KeepaliveGateTests {
    @Test(
        "when libssh2_keepalive_send will send again",
        arguments: [
            (nil, 100, 0, nil),  // never sent: now
            (100, 102, 0, nil),  // 2 whole seconds later: now
            (100, 105, 500_000_000, nil),
            (100, 101, 250_000_000, 760_000_000),  // 10 ms into second 102 (time() may lag)
            (100, 100, 900_000_000, 1_110_000_000),
        ] as [(Int?, Int, Int, UInt64?)])
    func sendable(last: Int?, second: Int, nanosecond: Int, wait: UInt64?) {
        var gate = LibSSH2KeepaliveGate()
        if let last { gate.sent(second: last) }
        #expect(gate.sendableAt(now: 5_000, second: second, nanosecond: nanosecond) == wait.map { 5_000 + $0 })
    }
}
