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

/// `rolling.spread`: hosts that share a key — a host variable's value, or the group they are
/// in among groups named alike — are kept apart, at most `maxPerBatch` of a key in one batch
/// (docs/playbooks.md, "Spread"). A host without the key is not limited.
public struct SpreadLimit: Sendable, Hashable, CustomStringConvertible {
    public enum Key: Sendable, Hashable, CustomStringConvertible {
        /// The value of a host variable (`by: cluster`).
        case variable(String)
        /// The host's group whose name starts with this prefix (`by: group zone_*`).
        case groupPrefix(String)

        /// As the playbook writes it: `cluster`, `group zone_*`.
        public var description: String {
            switch self {
            case .variable(let name): return name
            case .groupPrefix(let prefix): return "group \(prefix)*"
            }
        }

        /// `cluster eu`, `group zone_b`: a key's value as messages name it.
        public func naming(_ value: String) -> String {
            switch self {
            case .variable(let name): return "\(name) \(value)"
            case .groupPrefix: return "group \(value)"
            }
        }
    }

    public var by: Key
    public var maxPerBatch: Int

    public init(by: Key, maxPerBatch: Int) {
        self.by = by
        self.maxPerBatch = maxPerBatch
    }

    /// `spread by cluster, max_per_batch 1`
    public var description: String { "spread by \(by), max_per_batch \(maxPerBatch)" }

    /// The host's key: nil when it has none. A host in two groups of the prefix has no one
    /// key: the error names them (`check` refuses it).
    public func key(of host: Host) -> Result<String?, SpreadKeyError> {
        switch by {
        case .variable(let name):
            guard let value = host.vars[name], value != .null else { return .success(nil) }
            return .success(value.scalarText ?? "\(value)")
        case .groupPrefix(let prefix):
            let matching = host.groups.filter { $0.hasPrefix(prefix) }.sorted()
            if matching.count > 1 {
                return .failure(
                    SpreadKeyError(host: host.name, message: "is in \(matching.joined(separator: " and ")), two groups of \(by)"))
            }
            return .success(matching.first)
        }
    }
}

/// A host whose spread key cannot be told.
public struct SpreadKeyError: Error, Sendable, Hashable {
    public var host: String
    public var message: String
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
    /// Hosts sharing a key kept apart (nil: batches from the order alone).
    public var spread: SpreadLimit?

    public init(
        batch: [BatchSize] = [.count(1)], order: HostOrder = .inventory, seed: UInt64 = 0,
        maxFailPercentage: Int = 0, maxFailures: Int? = nil, pause: Duration = .zero,
        gate: StageGate = .none, spread: SpreadLimit? = nil
    ) {
        self.spread = spread
        self.batch = batch
        self.order = order
        self.seed = seed
        self.maxFailPercentage = maxFailPercentage
        self.maxFailures = maxFailures
        self.pause = pause
        self.gate = gate
    }
}

/// The policy as a run's journal header keeps it, so that a resume goes on under the policy
/// the run started with: `{"batch":["1","25%"],"gate":"soak","maxFailPercentage":0,
/// "maxFailures":null,"order":"inventory","pauseMs":30000,"seed":0,"soakMs":300000}`, and with
/// a spread `"spread":{"by":"cluster","maxPerBatch":1}` (`"by":"group zone_*"` for groups).
extension RolloutPolicy: Codable {
    enum CodingKeys: String, CodingKey { case batch, order, seed, maxFailPercentage, maxFailures, pauseMs, gate, soakMs, spread }

    struct SpreadCoding: Codable {
        var by: String
        var maxPerBatch: Int
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batch = try c.decode([String].self, forKey: .batch).map { text in
            if text.hasSuffix("%"), let p = Int(text.dropLast()) { return .percent(p) }
            guard let n = Int(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .batch, in: c, debugDescription: "expected a count or a percentage, got \"\(text)\"")
            }
            return .count(n)
        }
        let orderText = try c.decode(String.self, forKey: .order)
        guard let order = HostOrder(rawValue: orderText) else {
            throw DecodingError.dataCorruptedError(forKey: .order, in: c, debugDescription: "unknown order \"\(orderText)\"")
        }
        self.order = order
        seed = try c.decode(UInt64.self, forKey: .seed)
        maxFailPercentage = try c.decode(Int.self, forKey: .maxFailPercentage)
        maxFailures = try c.decodeIfPresent(Int.self, forKey: .maxFailures)
        pause = .milliseconds(try c.decode(Int.self, forKey: .pauseMs))
        switch try c.decode(String.self, forKey: .gate) {
        case "none": gate = .none
        case "manual": gate = .manual
        case "soak": gate = .soak(.milliseconds(try c.decode(Int.self, forKey: .soakMs)))
        case let other: throw DecodingError.dataCorruptedError(forKey: .gate, in: c, debugDescription: "unknown gate \"\(other)\"")
        }
        if let s = try c.decodeIfPresent(SpreadCoding.self, forKey: .spread) {
            let key: SpreadLimit.Key
            if s.by.hasPrefix("group "), s.by.hasSuffix("*") {
                key = .groupPrefix(String(s.by.dropFirst("group ".count).dropLast()))
            } else {
                key = .variable(s.by)
            }
            spread = SpreadLimit(by: key, maxPerBatch: s.maxPerBatch)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batch.map(\.description), forKey: .batch)
        try c.encode(order.rawValue, forKey: .order)
        try c.encode(seed, forKey: .seed)
        try c.encode(maxFailPercentage, forKey: .maxFailPercentage)
        try c.encode(maxFailures, forKey: .maxFailures)
        try c.encode(Self.ms(pause), forKey: .pauseMs)
        switch gate {
        case .none: try c.encode("none", forKey: .gate)
        case .manual: try c.encode("manual", forKey: .gate)
        case .soak(let d):
            try c.encode("soak", forKey: .gate)
            try c.encode(Self.ms(d), forKey: .soakMs)
        }
        try c.encodeIfPresent(spread.map { SpreadCoding(by: $0.by.description, maxPerBatch: $0.maxPerBatch) }, forKey: .spread)
    }

    static func ms(_ d: Duration) -> Int {
        Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
    }
}
