import FleetCore
import FleetTestSupport
import Testing

/// The one fold of a run's journal, entry by entry: what reading a journal back does and
/// what a running coordinator keeps live are the same record.
@Suite("run record: the fold, entry by entry")
struct RunRecordFoldTests {
    @Test("applying the sample journal one entry at a time gives the record folded at once, at every prefix")
    func incremental() throws {
        let entries = SampleRun.entries
        var live = try RunRecord(header: entries[0])
        for (i, e) in entries.enumerated().dropFirst() {
            try live.apply(e)
            #expect(live.statusCounts == StatusCounts(live.hosts), "counts after entry \(e.seq)")
            if i % 7 == 0 || i == entries.count - 1 {
                #expect(live == (try RunRecord(entries: Array(entries.prefix(i + 1)))), "after entry \(e.seq)")
            }
        }
        #expect(live.outcome == .halted && live.lastSeq == entries.last?.seq)
    }

    @Test(
        "an entry the fold cannot take names its seq",
        arguments: [
            (RunEvent.hostStarted(host: "ghost", recheck: false), "journal entry 99 names host ghost, which is not in the run's plan"),
            (.runStarted(SampleRun.header), "journal entry 99 starts the run a second time"),
            (
                .hostsSkipped(hosts: ["mm-eu-01", "nobody"], reason: "x"),
                "journal entry 99 skips host nobody, which is not in the run's plan"
            ),
        ])
    func refused(event: RunEvent, message: String) throws {
        var record = try RunRecord(header: SampleRun.entries[0])
        #expect(throws: RunRecordError(message)) { try record.apply(JournalEntry(seq: 99, time: SampleRun.time(0), event: event)) }
    }

    @Test("a journal must start with its header")
    func header() {
        #expect(throws: RunRecordError("the journal does not start with the run's header")) {
            _ = try RunRecord(header: JournalEntry(seq: 1, time: SampleRun.time(0), event: .draining))
        }
        #expect(throws: RunRecordError("the journal does not start with the run's header")) { _ = try RunRecord(entries: []) }
    }
}
