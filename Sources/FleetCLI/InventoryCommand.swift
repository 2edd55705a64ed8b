import ArgumentParser
import FleetConfig
import FleetCore
import Foundation

/// `fleetup inventory -i INV [--list | --graph [GROUP] | --host H] [--limit PAT] [--yaml]`:
/// loads an inventory and prints it as `ansible-inventory` does, so the two can be diffed.
struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Load an inventory and print it (the shapes of ansible-inventory).",
        discussion: """
            --list (the default) prints JSON with the shape of `ansible-inventory --list`: \
            groups with hosts and children, and _meta.hostvars with every host's merged \
            variables. --graph prints the group tree; --host prints one host's variables. \
            Warnings go to stderr. Exit status: 0, 1 when standard output closed early, 2 for a \
            bad inventory or flags (nothing is printed on stdout then).
            """)

    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Print groups and every host's variables as JSON (the default).")
    var list = false

    @Flag(help: "Print the group tree (from GROUP, default all). Ignores --limit, as Ansible does.")
    var graph = false

    @Option(help: ArgumentHelp("Print the merged variables of this one host. Ignores --limit, as Ansible does.", valueName: "H"))
    var host: String?

    @Flag(help: "With --list or --host: YAML instead of JSON.")
    var yaml = false

    @Argument(help: "With --graph: the group to start from.")
    var group: String?

    func validate() throws {
        if [list, graph, host != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give only one of --list, --graph and --host")
        }
        if yaml && graph { throw ValidationError("--yaml goes with --list or --host, not --graph") }
        if group != nil && !graph { throw ValidationError("a GROUP argument goes with --graph only") }
    }

    nonisolated(unsafe) static var keepUntilExit: [Any] = []

    func run() throws {
        let inv = try inventory.loadPrintingWarnings()
        // The process ends right after printing: tearing down a 10,000-host tree, object
        // by object, would only delay the exit.
        Self.keepUntilExit.append(inv)
        var text: String
        if graph {
            let start = group ?? "all"
            guard inv.groups[start] != nil else {
                throw ConfigError(file: "--graph", "\"\(start)\" is not a group of the inventory (expected a group name)")
            }
            text = try InventoryRender.graph(inv, from: start)
        } else if let host {
            let hosts = try HostPattern.select(host, in: inv, limit: nil, label: "--host")
            guard hosts.count == 1 else {
                throw ConfigError(file: "--host", "\"\(host)\" matches \(hosts.count) hosts (expected exactly one host)")
            }
            let vars = VarValue.map(InventoryRender.hostVars(hosts[0])).unmarked  // Ansible's --host: no unsafe marks
            text = yaml ? InventoryRender.yaml(vars) : PythonJSON.render(vars)
        } else {
            let hosts = try inventory.limit.map { try HostPattern.limit($0, in: inv) }
            guard yaml else {
                // Bytes straight out: 10,000 hosts are ~8 MB of JSON.
                let tree = InventoryRender.list(inv, hosts: hosts)
                Self.keepUntilExit.append(tree)
                // Streamed: the whole text (~60 MB for 100,000 hosts) is never held at once.
                nonisolated(unsafe) var failed = false
                PythonJSON.stream(tree) { piece in
                    if !failed { failed = !writeOut(piece) }
                }
                if failed || !writeOut([0x0A]) { throw ExitCode(1) }  // stdout closed: nothing more to say
                return
            }
            text = InventoryRender.yaml(InventoryRender.yamlList(inv, hosts: hosts))
        }
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}

/// Writes all of `bytes` to stdout without copying them into a Data first; false when
/// stdout is closed (a pipe whose reader left).
private func writeOut(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buf in
        var done = 0
        while done < buf.count {
            let n = Glibc.write(1, buf.baseAddress! + done, buf.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }
}

extension InventoryOptions {
    /// Loads `-i`, printing what Ansible would only warn about on stderr.
    func loadPrintingWarnings() throws -> Inventory {
        var warnings: [ConfigWarning] = []
        let inventory = try InventoryLoader.load(inventories, vault: try vault.keyring(), warnings: &warnings)
        if !warnings.isEmpty {
            let text = warnings.map { "fleetup: warning: \($0)\n" }.joined()
            FileHandle.standardError.write(Data(text.utf8))
        }
        return inventory
    }
}
