import ArgumentParser
import FleetConfig
import FleetCore
import FleetPrepare
import FleetReports
import FleetRollout
import Foundation

/// `fleetup check PLAYBOOK -i INV`: validates a playbook against an inventory, every
/// problem at once with its file and line, before anything runs.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a playbook and an inventory; print every problem with file:line.",
        discussion: """
            Reads the playbook (keys, types, versions, durations, templates), resolves its hosts \
            and stages in the inventory (each host in exactly one stage), and renders every \
            template for every host, so an unknown variable is found now. Connects to nothing. \
            With --json, the result (or every problem with its file and line) is also a JSON \
            document on stdout. \
            Exit status: 0 when all is well (warnings go to stderr), 2 when anything is wrong.
            """)

    @OptionGroup var playbook: PlaybookOptions
    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Print the result as JSON (fleetup.check/1): what was checked, or every problem with its file and line.")
    var json = false

    func run() throws {
        let c: RunInputs
        do { c = try playbook.prepare(inventory) } catch let error where json {
            // The problems on stdout for a program (a CI annotation), and on stderr as always.
            let problems: [ConfigError]
            switch error {
            case let e as ConfigError: problems = [e]
            case let e as ConfigErrors: problems = e.errors
            default: throw error
            }
            write(Self.document(playbook: playbook.path, ok: false, problems: problems))
            throw error
        }
        let stages = c.stages.map { "\($0.name) \($0.hosts.count)" }.joined(separator: ", ")
        let steps = c.playbook.steps.filter {
            if case .step = $0 { return true }; return false
        }.count
        let target = c.playbook.release(c.target)?.version.text ?? c.target.text
        if json {
            write(
                Self.document(
                    playbook: c.playbook.file, ok: true, problems: [],
                    facts: [
                        ("hosts", .int(c.hosts.count)),
                        ("stages", .array(c.stages.map { .object([("name", .string($0.name)), ("hosts", .int($0.hosts.count))]) })),
                        ("releases", .int(c.playbook.releases.count)), ("target", .string(target)),
                        ("path", .string(c.playbook.path.rawValue)), ("steps", .int(steps)),
                        ("health_probes", .int(c.playbook.health.count)), ("rollback_steps", .int(c.playbook.rollback.count)),
                    ], warnings: c.warnings))
            return
        }
        // "1 step", "2 steps": a count and its noun, agreeing.
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        let line =
            "\(c.playbook.file): ok: \(count(c.hosts.count, "host", "hosts")) in "
            + "\(count(c.stages.count, "stage", "stages")) (\(stages)); "
            + "\(count(c.playbook.releases.count, "release", "releases")), target \(target), "
            + "path \(c.playbook.path.rawValue); \(count(steps, "step", "steps")), \(count(c.playbook.health.count, "health probe", "health probes")), "
            + "\(count(c.playbook.rollback.count, "rollback step", "rollback steps"))\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    private func write(_ document: JSON) { FileHandle.standardOutput.write(Data((document.render() + "\n").utf8)) }

    /// `fleetup.check/1`: `ok`, the playbook, what it holds (when ok), its warnings and its
    /// problems, each `{file, line, message}` as the text form prints `file:line: message`.
    static func document(
        playbook: String, ok: Bool, problems: [ConfigError], facts: [(String, JSON)] = [], warnings: [ConfigWarning] = []
    ) -> JSON {
        func item(_ e: ConfigError) -> JSON {
            .object([("file", .string(e.file)), ("line", .int(e.line)), ("message", .string(e.message))])
        }
        return .object(
            [("schema", .string("fleetup.check/1")), ("ok", .bool(ok)), ("playbook", .string(playbook))] + facts + [
                ("warnings", .array(warnings.map { item($0.problem) })), ("problems", .array(problems.map(item))),
            ])
    }
}
