import FleetCore
import Foundation
import Synchronization

/// The journal as the coordinator's sink, with group commit: `record` writes the line at
/// once (in the coordinator's order), and `flush(through:)` suspends the caller — never
/// blocking a thread of Swift's cooperative pool — until a dedicated thread's fdatasync has
/// made that line durable. One fdatasync covers every line written before it started, so
/// 50 hosts finishing steps at once cost one disk flush, not 50 in a row; and no action
/// starts before the entry that precedes it is on disk (design.md §5.7).
public final class GroupCommitJournal: RunEventSink {
    public let writer: JournalWriter

    private struct State {
        /// The last sequence number written (not yet necessarily durable).
        var written = 0
        var durable = 0
        var waiters: [(seq: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var failure: StoreError?
        var closed = false
        /// A wake is signalled and the thread has not yet read what to sync: flushes that
        /// come meanwhile are covered by that read, and do not signal again (a wake per
        /// flush sent the thread round once per flush, most rounds with nothing new to sync).
        var wakePending = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    public init(_ writer: JournalWriter) {
        self.writer = writer
        let thread = Thread { [self] in self.loop() }
        thread.name = "fleetup-journal"
        thread.start()
    }

    public func record(_ entry: JournalEntry) throws {
        try record(entry, prepared: nil)
    }

    /// Encodes the event's JSON, before the coordinator takes its lock to number it.
    public func prepare(_ event: RunEvent) -> PreparedEvent? {
        (try? writer.prepare(event)).map(PreparedEvent.init(bytes:))
    }

    public func record(_ entry: JournalEntry, prepared: PreparedEvent?) throws {
        if let f = state.withLock({ $0.failure }) { throw f }
        if let prepared { try writer.write(entry, event: prepared.bytes) } else { try writer.write(entry) }
        state.withLock { $0.written = max($0.written, entry.seq) }
    }

    public func flush(through seq: Int) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let (ready, signal) = state.withLock { s -> (Result<Void, any Error>?, Bool) in
                if let f = s.failure { return (.failure(f), false) }
                if s.durable >= seq { return (.success(()), false) }
                s.waiters.append((seq, c))
                let signal = !s.wakePending
                s.wakePending = true
                return (nil, signal)
            }
            if let ready { c.resume(with: ready) } else if signal { wake.signal() }
        }
    }

    public var degradation: String? { writer.degradation }

    /// Flushes what is left, stops the thread and closes the journal.
    public func close() {
        state.withLock { $0.closed = true }
        wake.signal()
        done.wait()
        writer.close()
    }

    private func loop() {
        while true {
            wake.wait()
            let (target, durable, closed) = state.withLock { s in
                s.wakePending = false
                return (s.written, s.durable, s.closed)
            }
            var failure: StoreError?
            if target > durable {
                do { try writer.sync() } catch { failure = (error as? StoreError) ?? StoreError(.io, path: writer.path, "\(error)") }
            }
            let resume = state.withLock { s -> [(CheckedContinuation<Void, any Error>, Result<Void, any Error>)] in
                if let failure { s.failure = failure } else { s.durable = max(s.durable, target) }
                var out: [(CheckedContinuation<Void, any Error>, Result<Void, any Error>)] = []
                s.waiters.removeAll { w in
                    if let f = s.failure { out.append((w.continuation, .failure(f))); return true }
                    if w.seq <= s.durable { out.append((w.continuation, .success(()))); return true }
                    return false
                }
                return out
            }
            for (c, r) in resume { c.resume(with: r) }
            if closed && state.withLock({ $0.waiters.isEmpty && $0.written <= $0.durable }) { break }
            if closed { wake.signal() }
        }
        done.signal()
    }
}
