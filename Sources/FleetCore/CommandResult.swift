/// The end of a stream's output: a bounded tail plus the count of every byte seen.
public struct CapturedOutput: Sendable, Hashable {
    /// The last `limit` bytes (all of them when the output was smaller).
    public private(set) var tail: [UInt8] = []
    /// Every byte the command wrote to this stream.
    public private(set) var totalBytes: Int = 0
    /// The most bytes `tail` keeps.
    public let limit: Int

    public init(limit: Int = RemoteCommand.defaultOutputLimit) { self.limit = max(0, limit) }

    public init(_ text: String, limit: Int = RemoteCommand.defaultOutputLimit) {
        self.init(limit: limit)
        append(Array(text.utf8))
    }

    /// Adds bytes; amortised O(n): the buffer is trimmed once it holds twice the limit.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        totalBytes += bytes.count
        guard limit > 0 else { return }
        if bytes.count >= limit {
            tail = Array(bytes.suffix(limit))
            return
        }
        tail.append(contentsOf: bytes)
        // Not `2 * limit`: that overflows (and traps) for `--output-limit` near Int.max.
        if tail.count - limit >= limit { tail.removeFirst(tail.count - limit) }
    }

    /// Drops what is beyond the limit (call once the stream has ended).
    public mutating func finish() {
        if tail.count > limit { tail.removeFirst(tail.count - limit) }
    }

    /// True when bytes were dropped from the front.
    public var isTruncated: Bool { totalBytes > tail.count }

    /// The tail as text (invalid UTF-8 repaired; a character cut by truncation shows as U+FFFD).
    public var text: String { String(decoding: tail, as: UTF8.self) }
}

/// What one command did on one host.
public struct CommandResult: Sendable, Hashable {
    /// The exit status; nil when the command was killed by a signal or timed out.
    public var exitStatus: Int32?
    /// The signal that ended the command (`KILL`, `TERM`), when there was one.
    public var exitSignal: String?
    /// True when fleetup ended the command because its timeout passed.
    public var timedOut: Bool
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput
    /// From the channel's opening to its close.
    public var duration: Duration

    public init(
        exitStatus: Int32?, exitSignal: String? = nil, timedOut: Bool = false,
        stdout: CapturedOutput = CapturedOutput(), stderr: CapturedOutput = CapturedOutput(),
        duration: Duration = .zero
    ) {
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.timedOut = timedOut
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
    }

    /// Exit status 0, no signal, no timeout.
    public var succeeded: Bool { exitStatus == 0 && exitSignal == nil && !timedOut }

    /// How the command ended, in a few words (`exit 0`, `exit 3`, `killed by KILL`, `timed out`).
    public var outcomeText: String {
        if timedOut { return "timed out" }
        if let s = exitSignal { return "killed by \(s)" }
        if let e = exitStatus { return "exit \(e)" }
        return "no exit status"
    }
}
