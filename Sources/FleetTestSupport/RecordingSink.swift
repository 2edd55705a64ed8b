import FleetCore
import Synchronization

/// A `RunEventSink` that keeps entries in memory, for tests (the real one is the journal).
public final class RecordingSink: RunEventSink {
    private let state = Mutex<[JournalEntry]>([])
    private let failAfter: Int?

    /// `failAfter`: the entry number from which `record` throws (a full disk).
    public init(failAfter: Int? = nil) { self.failAfter = failAfter }

    public func record(_ entry: JournalEntry) throws {
        try state.withLock { s in
            if let failAfter, s.count >= failAfter { throw SinkFull() }
            s.append(entry)
        }
    }

    public var entries: [JournalEntry] { state.withLock { $0 } }
    public var events: [RunEvent] { entries.map(\.event) }

    struct SinkFull: Error, CustomStringConvertible { var description: String { "no space left on device" } }
}
