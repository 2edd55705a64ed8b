import ArgumentParser
import FleetCore
import FleetReports
import FleetRollout
import FleetSSH
import Foundation

/// `fleetup exec -i INV [--limit PAT] -- CMD`: one command on every host, in parallel.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run an ad-hoc command on every host (or --limit), in parallel.",
        discussion: """
            Output is grouped per host; hosts with identical output share one block. \
            Exit status: 0 when every host exited 0, 1 when any failed, timed out or was \
            unreachable, 2 for bad input, 3 when no host could be reached.
            """)

    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var become: BecomeOptions
    @OptionGroup var colors: ColorOptions

    @Option(help: ArgumentHelp("Seconds before a host's command is ended (TERM, then KILL).", valueName: "S"))
    var timeout: Double?

    @Flag(help: "Print one JSON object (fleetup.exec/1) on stdout instead of text.")
    var json = false

    @Flag(help: "Prefix every output line with its host (like pdsh) instead of grouping identical output.")
    var prefix = false

    @Option(
        name: .customLong("output-limit"), help: ArgumentHelp("Bytes of stdout and of stderr kept per host (the tail).", valueName: "BYTES")
    )
    var outputLimit: Int = RemoteCommand.defaultOutputLimit

    // Only words after `--` are the command: a mistyped option before it is an error, never
    // a command sent to every host.
    @Argument(parsing: .postTerminator, help: "The command (after --), run by each host's login shell.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --, e.g. fleetup exec -i INV -- uname -r") }
        try validateSeconds(timeout, "--timeout")
        if outputLimit < 0 { throw ValidationError("--output-limit cannot be negative") }
    }

    func run() async throws {
        let hosts = try inventory.reachableHosts()
        let words = command
        // One word is sent as written (it may be a whole shell line); several are joined as
        // the shell would see them typed, like ssh does.
        let script = words.joined(separator: " ")
        let remote = RemoteCommand(script, timeout: timeout.map(duration(seconds:)), outputLimit: outputLimit)
        let becomes = try become.settings(for: hosts)
        let executor = try SSHExecutor(connection.sshConfiguration(for: hosts, inventory: inventory.inventories.joined(separator: ", ")))
        let forks = connection.forks
        let work = Task {
            await AdHoc.run(
                { host in
                    var c = remote
                    c.become = becomes[host.name] ?? nil
                    return c
                }, display: remote.display, on: hosts, forks: forks, executor: executor)
        }
        let interrupts = Interrupts.install(onFirst: { work.cancel() })
        let result = await work.value
        interrupts.cancel()
        await executor.shutdown()
        let text =
            json
            ? AdHocReport.json(result)
            : AdHocReport.text(
                result, layout: prefix ? .prefixed : .collapsed, style: colors.style(for: STDOUT_FILENO))
        FileHandle.standardOutput.write(Data(text.utf8))
        if result.allSucceeded { return }
        throw ExitCode(result.noneReachable ? 3 : 1)
    }
}
