import FleetCore
import Synchronization

/// The coordinator's one path to the journal: every event numbered and written in order
/// under its lock, made durable before the action it announces, folded into the run's
/// record and shown; a journal that broke or writes into its reserve stops the run.
extension Coordinator {
    /// Why the journal failed, once it has.
    var sinkError: String? { sinkFailed.load(ordering: .acquiring) ? state.withLock { $0.sinkError } : nil }
    var stopping: Bool { stopRequested.load(ordering: .acquiring) || sinkFailed.load(ordering: .acquiring) }

    /// Records the journal's failure (the first one), under the lock.
    func failSink(_ s: inout State, _ error: any Error) {
        if s.sinkError == nil { s.sinkError = "\(error)" }
        sinkFailed.store(true, ordering: .releasing)
    }

    /// Appends an event and returns once the sink has it on disk (the next action may
    /// start). The journal's order is the order of `enqueue`: one lock around numbering and
    /// writing; the wait for the disk is outside it, shared by every task waiting at once.
    func emit(_ event: RunEvent) async {
        guard let seq = enqueue(event) else { return stop(because: nil) }
        do {
            try await sink.flush(through: seq)
        } catch {
            state.withLock { s in failSink(&s, error) }
            return stop(because: nil)
        }
        if let reason = sink.degradation { stop(because: reason) }
    }

    /// The journal broke, or writes into its reserve: the first time, the run drains
    /// (nothing new starts) and, while it still can, the journal says why.
    func stop(because reason: String?) {
        let (first, events) = state.withLock { s -> (Bool, AsyncStream<RolloutMachine.Event>.Continuation?) in
            guard s.stopping == nil else { return (false, s.events) }
            s.stopping = reason ?? s.sinkError ?? "the journal failed"
            stopRequested.store(true, ordering: .releasing)
            return (true, s.events)
        }
        guard first else { return }
        if let reason {
            _ = enqueue(
                .halted(
                    reason:
                        "the state folder's disk is full (\(reason)): nothing new starts; the hosts in flight finish the hop they are in, then `fleetup resume` goes on"
                ))
        }
        events?.yield(.drain)
    }

    /// Numbers and writes an event (not yet durable); nil once the sink has failed.
    func enqueue(_ event: RunEvent) -> Int? {
        // The event's JSON is made before the lock: only numbering and writing are in order.
        let prepared = sink.prepare(event)
        return state.withLock { s -> Int? in
            guard s.sinkError == nil else { return nil }
            s.seq += 1
            let entry = JournalEntry(seq: s.seq, time: now, event: event)
            do {
                try sink.record(entry, prepared: prepared)
                if case .runStarted = event { s.record = try RunRecord(header: entry) } else { try s.record.apply(entry) }
            } catch {
                failSink(&s, error)
                return nil
            }
            display?.show(entry, counts: s.record.statusCounts)
            return s.seq
        }
    }

    /// What the operator is told when the journal broke mid-run.
    func journalFailureMessage(_ error: String) -> String {
        let stopped = state.withLock { $0.stoppedHosts }
        var text = "the journal could not be written (\(error)): nothing new started"
        if !stopped.isEmpty {
            text +=
                ", and the hosts in flight stopped after what they were doing (their apps may be stopped):\n"
                + stopped.sorted().map { "  \($0)" }.joined(separator: "\n")
                + "\nmake room for the journal, then `fleetup resume \(setup.header.id)`: each goes on from the last step its journal holds"
        } else {
            text += "; make room for the journal, then `fleetup resume \(setup.header.id)`"
        }
        return text
    }
}
