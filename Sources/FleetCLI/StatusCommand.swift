import ArgumentParser
import FleetConfig
import FleetCore
import FleetPrepare
import FleetReports
import FleetRollout
import FleetSSH
import FleetStore
import Foundation
import Synchronization

extension StatusReportFormat: ExpressibleByArgument {}

/// `fleetup status -i INV [PLAYBOOK]`: what every host runs and whether it is well, now.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "The fleet's status: reachability, version, health and the last run of every host; versions per stage, drift from the target.",
        discussion: """
            Changes nothing. With a PLAYBOOK: its hosts and stages, its version command and its health \
            probes, and drift from its target (or --target). Without: every host of the inventory, \
            grouped by its first group, the version only with --version-cmd. The last run that touched \
            each host comes from the stored runs (--state-dir). The report goes to standard output (or \
            --output FILE), progress to standard error. Formats: docs/reports.md. Exit status: 0 when \
            every host is reachable and healthy (and with --require-target on the target), 1 otherwise, \
            2 for bad input.
            """)

    @Argument(help: ArgumentHelp("The playbook whose hosts, version command and probes to use (YAML).", valueName: "playbook"))
    var playbookPath: String?

    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var colors: ColorOptions

    @Option(help: ArgumentHelp("The version the fleet should be on (default: the playbook's version.target).", valueName: "V"))
    var target: String?

    @Option(
        name: .customLong("var"),
        help: ArgumentHelp("A variable, overriding the inventory and the playbook (repeatable).", valueName: "K=V"))
    var vars: [String] = []

    @Option(
        name: .customLong("version-cmd"),
        help: ArgumentHelp(
            "The command that prints a host's version (first x.y.z of its output); templates use the host's variables. Replaces the playbook's.",
            valueName: "CMD"))
    var versionCommand: String?

    @Flag(name: .customLong("require-target"), help: "Hosts not on the target (or on an unknown version) fail the status too.")
    var requireTarget = false

    @Option(help: ArgumentHelp("text, json (fleetup.status/1), md, html (one self-contained page) or junit.", valueName: "format"))
    var format: StatusReportFormat?

    @Flag(help: "The same as --format json.")
    var json = false

    @Option(help: ArgumentHelp("Write the report into this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Seconds the version command may take on a host.", valueName: "S"))
    var timeout: Double = 30

    @Option(
        help: ArgumentHelp(
            "Check again every S seconds, redrawing the table in place on the terminal, until Ctrl-C.", valueName: "S"))
    var watch: Double?

    func validate() throws {
        if json && format != nil && format != .json { throw ValidationError("--json and --format \(format!.rawValue) do not go together") }
        try validateSeconds(timeout, "--timeout")
        try PlaybookOptions.validate(vars: vars)
        if playbookPath == nil && !vars.isEmpty && versionCommand == nil {
            throw ValidationError("--var needs a playbook or --version-cmd to use it")
        }
        if requireTarget && playbookPath == nil && target == nil {
            throw ValidationError("--require-target needs a target: give a playbook or --target")
        }
        if let watch {
            try validateSeconds(watch, "--watch")
            if json || output != nil || (format != nil && format != .text) {
                throw ValidationError("--watch redraws the text table on a terminal: it goes with neither --json, --format nor --output")
            }
        }
    }

    func run() async throws {
        let plan = try plan()
        if let output { try Self.checkOutput(output) }
        let hosts = plan.checks.map(\.host)
        let ssh = try connection.sshConfiguration(for: hosts, inventory: inventory.inventories.joined(separator: ", "))
        let executor = try SSHExecutor(ssh)
        if let watch {
            defer { Task { await executor.shutdown() } }
            return try await watching(every: duration(seconds: watch), plan: plan, executor: executor)
        }
        let progress = Progress(total: hosts.count)
        progress.say("checking \(hosts.count) \(hosts.count == 1 ? "host" : "hosts"), \(min(connection.forks, hosts.count)) at a time")
        let work = Task { await check(plan, executor: executor, progress: progress) }
        let interrupts = Interrupts.install(onFirst: { work.cancel() })
        let status = await work.value
        interrupts.cancel()
        await executor.shutdown()
        let text = StatusReports.render(status, json ? .json : (format ?? .text), style: colors.style(for: STDOUT_FILENO))
        if let output {
            // As `fleetup report --output`: the file is the operator's input (2).
            do { try StoreFile.write(text, to: output) } catch { Fleetup.fail("--output: \(error)", code: 2) }
            progress.say("wrote \(output)")
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if !status.passes { throw ExitCode(1) }
    }

    /// `--watch`: the table again every `period`, drawn over the last one (the screen cleared
    /// and the cursor home), until Ctrl-C (a second quits at once, even mid-check); then the
    /// exit status of the last check.
    private func watching(every period: Duration, plan: Plan, executor: SSHExecutor) async throws {
        // Cancelled by Ctrl-C: a flag the pause between checks looks at.
        let stop = Task<Void, Never> { while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) } }
        let interrupts = Interrupts.install(exitOn: 2) { _ in stop.cancel() }
        defer { interrupts.cancel() }
        var last: FleetStatus?
        while !stop.isCancelled {
            let status = await check(plan, executor: executor, progress: nil)
            last = status
            let table = StatusReports.render(status, .text, style: colors.style(for: STDOUT_FILENO))
            let footer = "\nevery \(DurationText.format(period)), last at \(status.generatedAt.tableText) UTC; Ctrl-C stops\n"
            FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + table + footer).utf8))
            let interrupted = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try? await Task.sleep(for: period)
                    return false
                }
                group.addTask {
                    // Ctrl-C, looked for ten times a second (a terminal's pace).
                    while !stop.isCancelled && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
                    return stop.isCancelled
                }
                let first = await group.next() ?? true
                group.cancelAll()
                return first
            }
            if interrupted { break }
        }
        if let last, !last.passes { throw ExitCode(1) }
    }

    /// One look at every host of the plan: its version, health and last run.
    private func check(_ plan: Plan, executor: SSHExecutor, progress: Progress?) async -> FleetStatus {
        let started = Date()
        let clock = ContinuousClock()
        let start = clock.now
        let hosts = plan.checks.map(\.host)
        let lastRuns = await Self.lastRuns(hosts.map(\.name), store: store)
        let collector = StatusCollector(executor: executor, clock: clock, forks: connection.forks) { progress?.done($0) }
        var found = await collector.collect(plan.checks)
        for i in found.indices { found[i].lastRun = lastRuns[found[i].name] }
        return FleetStatus(
            generatedAt: WallTime(started), durationMs: start.duration(to: clock.now).milliseconds,
            inventories: inventory.inventories, limit: inventory.limit, playbook: plan.playbook?.name,
            playbookFile: plan.playbook.map { Self.absolute($0.file) }, target: plan.target, requireTarget: requireTarget,
            versionSource: versionCommand != nil ? .versionCommand : (plan.playbook != nil ? .playbook : nil),
            stages: StatusPlanner.stages(of: plan.checks), hosts: found)
    }

    struct Plan {
        var playbook: Playbook?
        var target: String?
        var checks: [StatusCheck]
    }

    /// The hosts and what to ask each; bad input (exit 2) before any connection.
    func plan() throws -> Plan {
        let overrides = try PlaybookOptions.overrides(vars)
        try PlaybookChecks.facts(overrides)
        var command: Template?
        if let versionCommand {
            do { command = try Template(parsing: versionCommand) } catch { throw ConfigError(file: "--version-cmd", error.message) }
        }
        guard let playbookPath else {
            let (inv, hosts) = try inventory.selectedHosts()
            if let target, Version(target) == nil { throw ConfigError(file: "--target", "\"\(target)\" is not a version (expected x.y.z)") }
            do {
                return Plan(
                    target: target,
                    checks: try StatusPlanner.checks(
                        hosts, inventory: inv, versionCommand: command,
                        versionTimeout: duration(seconds: timeout)))
            } catch {
                throw ConfigErrors(error.problems.map { ConfigError(file: "--version-cmd", $0) })
            }
        }
        var warnings: [ConfigWarning] = []
        let book = try PlaybookLoader.load(playbookPath, warnings: &warnings)
        let inv = try inventory.loadPrintingWarnings()
        if !warnings.isEmpty {
            FileHandle.standardError.write(Data(warnings.map { "fleetup: warning: \($0)\n" }.joined().utf8))
        }
        guard !inv.hosts.isEmpty else {
            throw ConfigError(file: inventory.inventories.joined(separator: ", "), "the inventory has no hosts")
        }
        let target = try PlaybookChecks.target(target, book)
        let stages = try PlaybookCheck.stages(book, inventory: inv, limit: inventory.limit).map {
            StageHosts(name: $0.name, hosts: $0.hosts)
        }
        do {
            let checks = try StatusPlanner.checks(
                book, stages: stages, target: target, overrides: overrides, versionCommand: command,
                versionTimeout: duration(seconds: timeout))
            return Plan(playbook: book, target: book.release(target)?.version.text ?? target.text, checks: checks)
        } catch {
            throw ConfigErrors(error.problems.map { ConfigError(file: command == nil ? book.file : "--version-cmd", $0) })
        }
    }

    /// The newest stored run that touched each host. A run whose journal cannot be read is
    /// left out, with a warning: the status is still worth having.
    static func lastRuns(_ names: [String], store: StoreOptions) async -> [String: LastRun] {
        guard (try? store.postgres()) ?? nil != nil else { return lastRuns(names, store: store.store) }
        let warn = { (message: String) in FileHandle.standardError.write(Data("fleetup: warning: \(message)\n".utf8)) }
        let ids: [String]
        do { ids = try await store.runIDs() } catch {
            warn("store: \(error); the last runs are not shown")
            return [:]
        }
        var out: [String: LastRun] = [:]
        for id in ids {
            let pending = names.filter { out[$0] == nil }
            if pending.isEmpty { break }
            do {
                for (name, run) in LastRun.find(for: pending, in: [try await store.load(id).record]) { out[name] = run }
            } catch {
                warn("\(error) (run left out of the last runs)")
            }
        }
        return out
    }

    static func lastRuns(_ names: [String], store: RunStore) -> [String: LastRun] {
        let warn = { (message: String) in FileHandle.standardError.write(Data("fleetup: warning: \(message)\n".utf8)) }
        let folders: [RunFolder]
        do { folders = try store.list() } catch {
            warn("\(error); the last runs are not shown")
            return [:]
        }
        var out: [String: LastRun] = [:]
        for folder in folders {
            let record: RunRecord
            do { record = try folder.load().record } catch {
                warn("\(error) (run left out of the last runs)")
                continue
            }
            let pending = names.filter { out[$0] == nil }
            if pending.isEmpty { break }
            for (name, run) in LastRun.find(for: pending, in: [record]) { out[name] = run }
        }
        return out
    }

    /// `--output FILE` whose folder is missing, or that is a folder: bad input, said before
    /// any host is asked rather than after all of them were.
    static func checkOutput(_ path: String) throws {
        var isDir: ObjCBool = false
        let folder = (absolute(path) as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw ConfigError(file: "--output", "\(folder) is not a folder (expected FILE in an existing folder)")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw ConfigError(file: "--output", "\(path) is a folder (expected a file to write the report into)")
        }
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/"))
            .standardizedFileURL.path
    }

    /// Plain lines on stderr: the start, then each host as it is done.
    final class Progress: Sendable {
        let total: Int
        private let count = Mutex(0)
        init(total: Int) { self.total = total }

        func say(_ line: String) { FileHandle.standardError.write(Data("fleetup: \(line)\n".utf8)) }

        func done(_ h: StatusHost) {
            let n = count.withLock { n -> Int in
                n += 1; return n
            }
            var what = h.reachable ? (h.version ?? "version not read") : (h.error ?? "unreachable")
            if h.reachable, let healthy = h.healthy { what += healthy ? ", healthy" : ", UNHEALTHY" }
            say("[\(n)/\(total)] \(h.name): \(what)")
        }
    }
}
