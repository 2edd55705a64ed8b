/// One element of `rolling.batch` (Ansible's `serial`).
public enum BatchSize: Sendable, Hashable, CustomStringConvertible {
    /// That many hosts; 0 means the whole stage in one batch.
    case count(Int)
    /// That percentage of ALL the stage's hosts, rounded down, at least 1.
    case percent(Int)

    public var description: String {
        switch self {
        case .count(let n): return String(n)
        case .percent(let p): return "\(p)%"
        }
    }
}

/// The order hosts are batched in, within a stage (Ansible's `order`).
public enum HostOrder: String, Sendable, Hashable, CaseIterable {
    /// As the inventory lists them (the default).
    case inventory
    /// The inventory's order, backwards (Ansible's `reverse_inventory`).
    case reverse
    /// By name.
    case sorted
    /// By name, backwards.
    case reverseSorted = "reverse_sorted"
    /// Shuffled, the same way every time for the same seed, so `plan` shows what `run` does.
    case shuffle
}

/// What happens between two stages.
public enum StageGate: Sendable, Hashable, CustomStringConvertible {
    /// The next stage starts at once.
    case none
    /// An operator approves on the terminal, or with `--approve STAGE` / `--yes`.
    case manual
    /// Waits this long, re-checks the health of the stage's hosts, then goes on.
    case soak(Duration)

    public var description: String {
        switch self {
        case .none: return "none"
        case .manual: return "manual"
        case .soak(let d): return "soak \(DurationText.format(d))"
        }
    }
}

/// How a playbook rolls through its hosts (`rolling:`), with fleetup's defaults.
public struct RolloutPolicy: Sendable, Hashable {
    /// Batch sizes, a ramp whose last element repeats. Default `[1]`: one host at a time.
    public var batch: [BatchSize]
    public var order: HostOrder
    /// The seed of `order: shuffle`.
    public var seed: UInt64
    /// A batch halts the run when MORE than this percentage of its hosts failed (0-100).
    public var maxFailPercentage: Int
    /// The run halts when more than this many hosts failed in all (nil: no such limit).
    public var maxFailures: Int?
    /// Wait between two batches of a stage.
    public var pause: Duration
    /// What happens between stages.
    public var gate: StageGate

    public init(batch: [BatchSize] = [.count(1)], order: HostOrder = .inventory, seed: UInt64 = 0,
                maxFailPercentage: Int = 0, maxFailures: Int? = nil, pause: Duration = .zero,
                gate: StageGate = .none) {
        self.batch = batch
        self.order = order
        self.seed = seed
        self.maxFailPercentage = maxFailPercentage
        self.maxFailures = maxFailures
        self.pause = pause
        self.gate = gate
    }
}
