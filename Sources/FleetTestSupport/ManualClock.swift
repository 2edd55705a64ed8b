import Synchronization

/// A clock that moves only when a test says so: `advance(by:)` wakes every sleeper whose
/// deadline has come, in deadline order. `waitForSleepers(_:)` lets a test wait (without
/// sleeping) until the code under test is parked on the clock, so pauses, probe periods,
/// timeouts and soaks are tested in milliseconds of real time.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable, Hashable, Comparable {
        public var offset: Duration
        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        var watchers: [(count: Int, CheckedContinuation<Void, Never>)] = []
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .milliseconds(1) }

    /// How many tasks sleep on the clock now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline of a sleeper, if any.
    public var nextDeadline: Instant? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let (ready, watchers, cancelled) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>], Bool) in
                    if s.cancelled.remove(id) != nil { return (false, [], true) }
                    if deadline <= s.now { return (true, [], false) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                    return (false, Self.takeWatchers(&s), false)
                }
                for w in watchers { w.resume() }
                if cancelled { c.resume(throwing: CancellationError()) } else if ready { c.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                if let i = s.sleepers.firstIndex(where: { $0.id == id }) { return s.sleepers.remove(at: i) }
                s.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking the sleepers whose deadlines come within it, each at its
    /// own deadline, earliest first.
    public func advance(by duration: Duration) {
        let end = state.withLock { $0.now.advanced(by: duration) }
        advance(to: end)
    }

    public func advance(to end: Instant) {
        let due = state.withLock { s -> [Sleeper] in
            let due = s.sleepers.filter { $0.deadline <= end }.sorted { $0.deadline < $1.deadline }
            s.sleepers.removeAll { $0.deadline <= end }
            if end > s.now { s.now = end }
            return due
        }
        for d in due { d.continuation.resume() }
    }

    /// Moves time to the earliest sleeper's deadline and wakes it (and any sharing it).
    /// Returns false when nobody sleeps.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let next = nextDeadline else { return false }
        advance(to: next)
        return true
    }

    /// Returns once at least `count` tasks sleep on the clock.
    public func waitForSleepers(_ count: Int = 1) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.watchers.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    private static func takeWatchers(_ s: inout State) -> [CheckedContinuation<Void, Never>] {
        var ready: [CheckedContinuation<Void, Never>] = []
        s.watchers.removeAll { w in
            if s.sleepers.count >= w.count { ready.append(w.1); return true }
            return false
        }
        return ready
    }
}
