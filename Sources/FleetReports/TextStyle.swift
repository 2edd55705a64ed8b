import FleetCore

/// How text for a terminal marks outcomes: plain, or with ANSI colours (`--color`,
/// `NO_COLOR`; docs/cli.md). Only words that say how something ended are coloured, after
/// any padding, so columns line up either way; JSON, Markdown, HTML and JUnit never are.
public struct TextStyle: Sendable, Equatable {
    public var colored: Bool

    public init(colored: Bool) { self.colored = colored }

    public static let plain = TextStyle(colored: false)

    public enum Tone: Sendable {
        case good, bad, warn, quiet
        var code: String {
            switch self {
            case .good: return "32"
            case .bad: return "31"
            case .warn: return "33"
            case .quiet: return "2"
            }
        }
    }

    public func paint(_ text: String, _ tone: Tone) -> String {
        guard colored, !text.isEmpty else { return text }
        return "\u{1B}[\(tone.code)m" + text + "\u{1B}[0m"
    }

    public static func tone(_ outcome: HostOutcome) -> Tone {
        switch outcome {
        case .upgraded, .alreadyCurrent: return .good
        case .skippedAfterHalt, .interrupted: return .quiet
        case .rolledBack: return .warn
        case .failed, .unreachable: return .bad
        }
    }

    public static func tone(_ outcome: RunOutcome?) -> Tone {
        switch outcome {
        case .succeeded: return .good
        case .failed, .halted: return .bad
        case .interrupted, .waitingForApproval, nil: return .warn
        }
    }

    public static func tone(_ category: AdHocCategory) -> Tone {
        switch category {
        case .ok: return .good
        case .failed: return .bad
        case .unreachable, .timedOut: return .warn
        }
    }
}
