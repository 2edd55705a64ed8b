import FleetCore
import Synchronization

/// A `RunEventSink` that keeps entries in memory, for tests (the real one is the journal).
public final class RecordingSink: RunEventSink {
    private let state = Mutex<[JournalEntry]>([])
    private let failAfter: Int?
    private let degraded = Mutex<String?>(nil)
    private let failing = Mutex(false)

    /// `failAfter`: the entry number from which `record` throws (a full disk).
    public init(failAfter: Int? = nil) { self.failAfter = failAfter }

    public func record(_ entry: JournalEntry) throws {
        if failing.withLock({ $0 }) { throw SinkFull() }
        try state.withLock { s in
            if let failAfter, s.count >= failAfter { throw SinkFull() }
            s.append(entry)
        }
    }

    /// From now on the sink writes into its reserve, as a journal on a full disk does.
    public func degrade(_ reason: String) { degraded.withLock { $0 = reason } }
    /// From now on `record` throws, as a journal that cannot be written does.
    public func fail() { failing.withLock { $0 = true } }
    public var degradation: String? { degraded.withLock { $0 } }

    public var entries: [JournalEntry] { state.withLock { $0 } }
    public var events: [RunEvent] { entries.map(\.event) }

    struct SinkFull: Error, CustomStringConvertible { var description: String { "no space left on device" } }
}
