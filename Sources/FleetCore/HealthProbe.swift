/// When and how often a probe runs, counted as Kubernetes counts (design.md §5.3).
public struct ProbeTiming: Sendable, Hashable {
    /// Before the first attempt.
    public var initialDelay: Duration
    /// Between the starts of two attempts.
    public var period: Duration
    /// Of one attempt.
    public var timeout: Duration
    /// Consecutive passes that make the host healthy.
    public var successThreshold: Int
    /// Consecutive failures that make it unhealthy.
    public var failureThreshold: Int
    /// Unhealthy when not healthy by then (from the first attempt's start).
    public var deadline: Duration

    /// fleetup's defaults: shorter than Kubernetes' 10 s period, since an upgrade waits on them.
    public init(
        initialDelay: Duration = .zero, period: Duration = .seconds(2), timeout: Duration = .seconds(1),
        successThreshold: Int = 1, failureThreshold: Int = 3, deadline: Duration = .seconds(60)
    ) {
        self.initialDelay = initialDelay
        self.period = period
        self.timeout = timeout
        self.successThreshold = successThreshold
        self.failureThreshold = failureThreshold
        self.deadline = deadline
    }
}

/// A health probe as the playbook writes it (templates still to render per host).
public struct HealthProbe: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `GET` through an SSH tunnel to the host: `http://HOST:PORT/PATH` as seen from it.
        case http(url: Template)
        /// A TCP connect through the tunnel: `HOST:PORT` or `PORT` (127.0.0.1).
        case tcp(address: Template)
        /// A command on the host; exit 0 passes.
        case command(Template)
    }

    public var kind: Kind
    /// For http: the statuses that pass; nil means 200-399.
    public var expectStatus: [Int]?
    /// For http: the body must contain this text.
    public var bodyContains: Template?
    public var timing: ProbeTiming
    /// A command whose output tail is recorded when the probe fails (`journalctl -u app -n 50`).
    public var logs: Template?
    public var line: Int?

    public init(
        kind: Kind, expectStatus: [Int]? = nil, bodyContains: Template? = nil,
        timing: ProbeTiming = ProbeTiming(), logs: Template? = nil, line: Int? = nil
    ) {
        self.kind = kind
        self.expectStatus = expectStatus
        self.bodyContains = bodyContains
        self.timing = timing
        self.logs = logs
        self.line = line
    }
}
