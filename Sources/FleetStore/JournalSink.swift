import FleetCore

/// The journal as the coordinator's sink: each entry is on disk when `record` returns.
extension JournalWriter: RunEventSink {
    public func record(_ entry: JournalEntry) throws { try append(entry) }
}
