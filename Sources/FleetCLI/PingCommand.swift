import ArgumentParser
import FleetCore
import FleetReports
import FleetRollout
import FleetSSH
import Foundation

/// `fleetup ping -i INV [--limit PAT] [-v]`: the pre-flight every operator runs first.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Connect to every host (handshake, host key, authentication, `true`) and say exactly why a host fails.",
        discussion: "Exit status: 0 when every host answered, 1 when some did not, 2 for bad input, 3 when none did.")

    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var colors: ColorOptions

    @Flag(
        name: .shortAndLong,
        help: "Show each host's resolved connection first (address, port, user, identities, jump hosts, known_hosts), like ssh -G.")
    var verbose = false

    @Flag(help: "Print one JSON object (fleetup.ping/1) on stdout instead of text.")
    var json = false

    func run() async throws {
        let hosts = try inventory.reachableHosts()
        let configuration = try connection.sshConfiguration(for: hosts, inventory: inventory.inventories.joined(separator: ", "))
        if verbose && !json {
            // Where the run's own settings came from (ansible.cfg, ANSIBLE_*), then each host.
            let sources = connection.settingSources().map { $0 + "\n" }.joined()
            let text = sources + hosts.map { Self.describe(configuration.resolve($0), defaults: configuration) }.joined()
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let executor = try SSHExecutor(configuration)
        let forks = connection.forks
        let work = Task { await Ping.run(hosts, forks: forks, executor: executor) }
        let interrupts = Interrupts.install(onFirst: { work.cancel() })
        let results = await work.value
        interrupts.cancel()
        await executor.shutdown()
        FileHandle.standardOutput.write(
            Data((json ? PingReport.json(results) : PingReport.text(results, style: colors.style(for: STDOUT_FILENO))).utf8))
        let ok = results.filter(\.ok).count
        if ok == results.count { return }
        throw ExitCode(ok == 0 ? 3 : 1)
    }

    /// The connection a host will get, every default filled in.
    static func describe(_ s: ConnectionSettings, defaults c: SSHConfiguration) -> String {
        var lines = ["\(s.hostName):"]
        lines.append("  address        \(s.endpoint)")
        lines.append("  user           \(s.user ?? c.defaultUser)")
        let files = s.identityFiles.isEmpty ? c.defaultIdentityFiles.map { $0 + " (if it exists)" } : s.identityFiles
        lines.append("  identities     " + (files.isEmpty ? "none" : files.joined(separator: ", ")))
        let agent = s.identitiesOnly ? "not used (IdentitiesOnly)" : (s.identityAgent ?? c.agentSocket ?? "none")
        lines.append("  agent          \(agent)")
        if !s.jumps.isEmpty {
            lines.append("  via            " + s.jumps.map { ($0.user.map { "\($0)@" } ?? "") + $0.endpoint }.joined(separator: " -> "))
        }
        lines.append("  known_hosts    " + (s.knownHostsFiles ?? c.knownHostsFiles).joined(separator: ", "))
        lines.append("  host key       \((s.hostKeyPolicy ?? c.hostKeyPolicy).rawValue)" + (s.hostKeyAlias.map { " (as \($0))" } ?? ""))
        lines.append(
            "  timeouts       connect \((s.connectTimeout ?? c.connectTimeout).messageText), keepalive "
                + "\((s.serverAliveInterval ?? c.serverAliveInterval).messageText) x \(s.serverAliveCountMax ?? c.serverAliveCountMax)")
        return lines.joined(separator: "\n") + "\n"
    }
}
