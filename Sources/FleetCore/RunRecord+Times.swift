extension HostRecord {
    /// From its (last) start to its finish; nil when it has not both.
    public var durationMs: Int? {
        guard let startedAt, let finishedAt else { return nil }
        return finishedAt.milliseconds(since: startedAt)
    }

    /// The step whose failure ended the host's upgrade: the last upgrade step that did not
    /// succeed (nil when none failed, e.g. when the health check failed).
    public var failedStep: StepRecord? { steps.last { $0.step.phase == .upgrade && !$0.succeeded } }

    /// The rollback steps that ran, in order.
    public var rollbackSteps: [StepRecord] { steps.filter { $0.step.phase == .rollback } }
}

extension RunRecord {
    /// From the start to `runFinished`; nil while the journal has no end.
    public var durationMs: Int? { finishedAt?.milliseconds(since: startedAt) }

    /// `time`'s offset from the run's start in milliseconds.
    public func offsetMs(_ time: WallTime?) -> Int? { time?.milliseconds(since: startedAt) }

    /// The hosts of one stage (and batch, 1-based), in plan order.
    public func hosts(stage: String, batch: Int? = nil) -> [HostRecord] {
        hosts.filter { $0.stage == stage && (batch == nil || $0.batch == batch) }
    }
}
