import FleetCore

/// A stored run read back from its journal: what `fleetup report`, `fleetup runs` and
/// `fleetup resume` start from.
public struct StoredRun: Sendable {
    public var folder: RunFolder
    public var entries: [JournalEntry]
    /// Folded from `entries`.
    public var record: RunRecord
    /// The journal ended in a torn line (a crash mid-write), which was left out.
    public var droppedTornLine: Bool
    /// Entries missing from the middle of the journal (`seq` jumps): the record is folded
    /// from what is there, which is not the whole run (docs/runs.md).
    public var gaps: [JournalGap] = []
}

extension RunFolder {
    /// Reads and folds the journal. A line that is not an entry, an entry the fold cannot
    /// take (a host not in the plan, a second start) or one numbered out of order is a
    /// `corruptJournal` error naming the journal's path and line; entries missing from the
    /// middle are `gaps`, for the caller to say (and `resume` to refuse).
    public func load() throws(StoreError) -> StoredRun {
        let contents: JournalReader.Contents<JournalEntry>
        do {
            contents = try JournalReader.read(journal, as: JournalEntry.self)
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(.io, path: journal, "cannot read the journal: \(error)")
        }
        let entries = contents.entries
        guard !entries.isEmpty else { throw StoreError(.corruptJournal, path: journal, "the journal is empty: the run never started") }
        let gaps = try JournalGaps.find(entries, path: journal)
        do {
            return StoredRun(
                folder: self, entries: entries, record: try RunRecord(entries: entries),
                droppedTornLine: contents.droppedTornLine, gaps: gaps)
        } catch {
            // The fold stops at the first entry it cannot take, so every longer prefix fails
            // too: the shortest failing prefix ends at that entry's line (one entry a line).
            var good = 0, bad = entries.count
            while bad - good > 1 {
                let mid = (good + bad) / 2
                if (try? RunRecord(entries: Array(entries.prefix(mid)))) == nil { bad = mid } else { good = mid }
            }
            throw StoreError(.corruptJournal, path: journal, line: bad, error.message)
        }
    }
}

extension RunStore {
    /// The run `name` names: `latest` (the newest), its id, or a prefix only it has.
    public func run(named name: String) throws -> RunFolder {
        if name == "latest" {
            guard let run = try latest() else { throw StoreError(.runNotFound, path: runsFolder, "there are no runs yet") }
            return run
        }
        return try find(name)
    }
}
