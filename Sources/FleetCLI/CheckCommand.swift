import ArgumentParser
import FleetConfig
import FleetCore
import FleetPrepare
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
            Exit status: 0 when all is well (warnings go to stderr), 2 when anything is wrong.
            """)

    @OptionGroup var playbook: PlaybookOptions
    @OptionGroup var inventory: InventoryOptions

    func run() throws {
        let c = try playbook.prepare(inventory)
        let stages = c.stages.map { "\($0.name) \($0.hosts.count)" }.joined(separator: ", ")
        let steps = c.playbook.steps.filter {
            if case .step = $0 { return true }; return false
        }.count
        // "1 step", "2 steps": a count and its noun, agreeing.
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        let line =
            "\(c.playbook.file): ok: \(count(c.hosts.count, "host", "hosts")) in "
            + "\(count(c.stages.count, "stage", "stages")) (\(stages)); "
            + "\(count(c.playbook.releases.count, "release", "releases")), target \(c.playbook.release(c.target)?.version.text ?? c.target.text), "
            + "path \(c.playbook.path.rawValue); \(count(steps, "step", "steps")), \(count(c.playbook.health.count, "health probe", "health probes")), "
            + "\(count(c.playbook.rollback.count, "rollback step", "rollback steps"))\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
