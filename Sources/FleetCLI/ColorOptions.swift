import ArgumentParser
import FleetReports
import Foundation

/// `--color auto|always|never` and `NO_COLOR` (https://no-color.org): whether text for a
/// terminal colours how things ended (docs/cli.md). `auto` colours only a terminal, and not
/// when NO_COLOR is set to anything or TERM is `dumb`; `always` and `never` beat both.
struct ColorOptions: ParsableArguments {
    enum Choice: String, ExpressibleByArgument, CaseIterable, Sendable {
        case auto, always, never
    }

    @Option(help: ArgumentHelp("Colour outcomes: auto (a terminal, unless NO_COLOR is set), always or never.", valueName: "WHEN"))
    var color: Choice = .auto

    /// The style of text written to `descriptor` (STDOUT_FILENO, STDERR_FILENO).
    func style(for descriptor: Int32) -> TextStyle {
        TextStyle(
            colored: Self.colored(color, terminal: isatty(descriptor) != 0, environment: ProcessInfo.processInfo.environment))
    }

    static func colored(_ choice: Choice, terminal: Bool, environment: [String: String]) -> Bool {
        switch choice {
        case .always: return true
        case .never: return false
        case .auto: return terminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        }
    }
}
