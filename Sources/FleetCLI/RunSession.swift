import ArgumentParser
import FleetConfig
import FleetCore
import FleetLocal
import FleetPrepare
import FleetReports
import FleetRollout
import FleetSSH
import FleetStore
import Foundation

/// `--yes`, `--approve STAGE`, `--no-rollback`, `-v`: what `run` and `resume` share.
struct RunOptions: ParsableArguments {
    @Flag(name: [.customShort("y"), .long], help: "Approve every manual gate between stages.")
    var yes = false

    @Option(help: ArgumentHelp("Approve the manual gate after this stage (repeatable).", valueName: "STAGE"))
    var approve: [String] = []

    @Flag(name: .customLong("no-rollback"), help: "On a failure, do not run the playbook's rollback steps.")
    var noRollback = false

    @Option(help: ArgumentHelp("Also copy the run's reports into this folder.", valueName: "DIR"))
    var output: String?

    @Flag(name: .shortAndLong, help: "Progress: one line per step, not only per host.")
    var verbose = false

    @OptionGroup var colors: ColorOptions

    @Flag(help: "When the run ends, print its JSON report (fleetup.run/2) on stdout (progress stays on stderr).")
    var json = false

    @Option(help: ArgumentHelp("Override the playbook's rolling.pause between batches (e.g. 5s, 0s).", valueName: "DURATION"))
    var pause: String?

    @Option(help: ArgumentHelp("Override how long a `gate: soak` waits before re-checking health (e.g. 30s).", valueName: "DURATION"))
    var soak: String?

    @Option(
        name: .customLong("wait-for-approval"),
        help: ArgumentHelp(
            "Without a terminal, wait this long at a manual gate for `fleetup approve` from anywhere (e.g. 2h; default: stop at the gate).",
            valueName: "DURATION"))
    var waitForApproval: String?

    func validate() throws {
        for (flag, value) in [("--pause", pause), ("--soak", soak), ("--wait-for-approval", waitForApproval)] {
            if let value, case .failure(let problem) = DurationText.read(value) {
                throw ValidationError(
                    "\(flag) \(value): \(problem == .tooLong ? DurationText.expected(problem) : "expected a duration such as 30s, 5m or 0s")"
                )
            }
        }
    }

    /// The playbook with `--pause` and `--soak` applied (an operator's override wins over
    /// the file, for this run and the resumes that pass it again).
    func apply(to book: Playbook) -> Playbook {
        var book = book
        if let p = pause.flatMap(DurationText.parse) { book.rolling.pause = p }
        if let d = soak.flatMap(DurationText.parse), case .soak = book.rolling.gate { book.rolling.gate = .soak(d) }
        return book
    }

    /// `--approve STAGE` names a stage a gate follows: one that is not a stage of the run
    /// (a typo), or is its last (no gate follows it), would approve nothing without a word.
    func checkApprovals(stages: [String]) throws {
        for name in approve where !stages.dropLast().contains(name) {
            let why = stages.last == name ? "the last stage: no gate follows it" : "not a stage of this run"
            throw ValidationError(
                "--approve \(name): \(why) (it names the stage a gate comes after: \(stages.dropLast().joined(separator: ", ")))")
        }
    }

    var gateKeeper: TerminalGateKeeper {
        TerminalGateKeeper(
            approved: yes ? nil : Set(approve),
            interactive: isatty(STDIN_FILENO) != 0 && isatty(STDERR_FILENO) != 0)
    }

    /// Manual gates approved on the command line, on the terminal, or by `fleetup approve`
    /// from anywhere that sees the run's store.
    func gateKeeper(approvals: any ApprovalSource, runID: String) -> any GateKeeper {
        SharedGateKeeper(
            terminal: gateKeeper, source: approvals, runID: runID, wait: waitForApproval.flatMap(DurationText.parse))
    }
}

/// Manual gates on a terminal: approved by `--yes`/`--approve`, else asked (y/N); without a
/// terminal the run stops at the gate, resumable with `--approve STAGE`.
struct TerminalGateKeeper: GateKeeper {
    let approved: Set<String>?
    let interactive: Bool

    func approve(stage: String, next: String) async -> (GateDecision, String?) {
        if approved == nil { return (.approved, "--yes") }
        if approved!.contains(stage) { return (.approved, "--approve \(stage)") }
        guard interactive else {
            return (
                .notApproved, "the gate after \(stage) is manual and nobody approved it: `fleetup resume --approve \(stage)` starts \(next)"
            )
        }
        FileHandle.standardError.write(Data("\(stage) passed. Start \(next)? [y/N] ".utf8))
        let answer = try? await Blocking.run("fleetup-gate") { readLine(strippingNewline: true) ?? "" }
        if let a = answer?.lowercased(), a == "y" || a == "yes" { return (.approved, "approved on the terminal") }
        return (.declined, "declined at the gate after \(stage) on the terminal")
    }
}

/// One part of a run (`run`, or `resume`): the lock, the journal, the coordinator, signals,
/// the reports and the summary. The lock is released at the end whatever happened.
struct RunSession {
    var setup: RunSetup
    /// Where the run lives: the state folder or the shared store.
    var place: any RunPlace
    var executor: SSHExecutor
    var options: RunOptions

    /// Runs and returns the exit code (0 success, 1 failed/halted/interrupted/waiting).
    func execute(
        opening: RunEvent, record: RunRecord? = nil, lastSeq: Int = 0, work: [String: RolloutMachine.Work] = [:],
        gatesPassed: Set<String> = [], failedBefore: Int = 0
    ) async throws -> Int32 {
        let owner = LockOwner.current(
            runID: setup.header.id, key: place.key,
            playbook: setup.header.playbookFile, inventories: setup.header.inventories)
        let notes = try await place.open(owner, header: setup.header)
        for n in notes { FileHandle.standardError.write(Data("fleetup: \(n)\n".utf8)) }
        let outcome: RunOutcome
        let live: RunRecord
        do {
            var setup = self.setup
            setup.hostLocks = HostLocks(owner: owner, executor: executor)
            setup.hookRunner = LocalHookRunner(
                playbook: setup.playbook, overrides: setup.overrides, journal: place.journalText, extraSecrets: setup.extraSecrets)
            setup.notifier = CurlNotifier(playbook: setup.playbook, overrides: setup.overrides, extraSecrets: setup.extraSecrets)
            (outcome, live) = try await coordinate(
                setup, opening: opening, record: record, lastSeq: lastSeq, work: work,
                gatesPassed: gatesPassed, failedBefore: failedBefore)
        } catch {
            await place.close(owner)
            throw error
        }
        // The lock host's lock goes through the executor (`start` shuts it down after).
        await place.close(owner)
        try await summarize(live)
        return outcome.exitCode
    }

    /// What `run` and `resume` share before their session: one SSH executor for the run's
    /// hosts and its lock host (from the connection flags), each host's become, and the
    /// pre-flight; `body` gets them, and the executor is shut down once, when it returns or
    /// throws, whatever happened.
    static func start(
        hosts: [FleetCore.Host], fleet: FleetTarget, inventory: [String], connection: ConnectionOptions,
        become: BecomeOptions, _ body: (SSHExecutor, [String: Become]) async throws -> Void
    ) async throws {
        var ssh = try connection.sshConfiguration(for: fleet.reaching(hosts), inventory: inventory.joined(separator: ", "))
        // One shell per host for the whole run instead of a channel per command (docs/ssh.md).
        ssh.persistentShell = ProcessInfo.processInfo.environment["FLEETUP_PERSISTENT_SHELL"] != "0"
        let executor = try SSHExecutor(ssh)
        do {
            let becomes = try become.stepBecome(for: hosts)
            try await preflight(hosts, executor: executor, handshakes: connection.handshakes)
            try await body(executor, becomes)
        } catch {
            await executor.shutdown()
            throw error
        }
        await executor.shutdown()
    }

    /// The coordinator's setup: the inputs, the hosts of the plan, the header, each host's become.
    static func makeSetup(_ inputs: RunInputs, hosts: [FleetCore.Host], header: RunHeader, becomes: [String: Become]) -> RunSetup {
        RunSetup(
            playbook: inputs.playbook, hosts: hosts, target: inputs.target, overrides: inputs.overrides, header: header,
            become: { becomes[$0.name] ?? Become() }, extraSecrets: becomes.values.compactMap { $0.password?.reveal() })
    }

    /// Warnings on stderr, one line each.
    static func warn(_ warnings: [ConfigWarning]) {
        if !warnings.isEmpty { FileHandle.standardError.write(Data(warnings.map { "fleetup: warning: \($0)\n" }.joined().utf8)) }
    }

    /// Connects to every host first: a refused host key stops the run before anything
    /// changes (exit 3); unreachable hosts are named and fail when their turn comes; a
    /// fleet with no host reachable does not start (exit 3).
    /// Before the run folder exists: a run refused here leaves nothing behind.
    static func preflight(_ hosts: [FleetCore.Host], executor: SSHExecutor, handshakes: Int) async throws {
        let result = await Preflight.connect(hosts, width: handshakes, executor: executor)
        if !result.refused.isEmpty {
            let lines = result.refused.map { "  \($0)" }.joined(separator: "\n")
            throw StartRefusal(
                message: "host keys refused, nothing was changed:\n\(lines)\n"
                    + "check them, then add them to known_hosts (or --host-key-policy accept-new for keys never seen)")
        }
        if result.connected == 0 && !hosts.isEmpty {
            throw StartRefusal(message: "no host is reachable:\n" + result.unreachable.prefix(10).map { "  \($0)" }.joined(separator: "\n"))
        }
        for e in result.unreachable {
            FileHandle.standardError.write(Data("fleetup: warning: \(e) (it fails when its turn comes)\n".utf8))
        }
    }

    /// The run to its end: its outcome, and its record as the journal holds it.
    private func coordinate(
        _ setup: RunSetup, opening: RunEvent, record: RunRecord?, lastSeq: Int, work: [String: RolloutMachine.Work],
        gatesPassed: Set<String>, failedBefore: Int
    ) async throws -> (RunOutcome, RunRecord) {
        let journal = try await place.journal(lastSeq: lastSeq)
        do {
            let result = try await coordinate(
                setup, journal: journal, opening: opening, record: record, lastSeq: lastSeq, work: work, gatesPassed: gatesPassed,
                failedBefore: failedBefore)
            await place.closeJournal()
            return result
        } catch {
            await place.closeJournal()
            throw error
        }
    }

    private func coordinate(
        _ setup: RunSetup, journal: any RunEventSink, opening: RunEvent, record: RunRecord?, lastSeq: Int,
        work: [String: RolloutMachine.Work], gatesPassed: Set<String>, failedBefore: Int
    ) async throws -> (RunOutcome, RunRecord) {
        let progress = RunProgress(header: setup.header, verbose: options.verbose, style: options.colors.style(for: STDERR_FILENO))
        let coordinator = Coordinator(
            setup: setup, executor: executor, clock: ContinuousClock(),
            sink: journal, display: progress, gateKeeper: options.gateKeeper(approvals: place.approvals, runID: place.runID),
            lastSeq: lastSeq,
            startedAt: .now)
        let interrupts = Interrupts.install(exitOn: 3) { _ in coordinator.interrupt() }
        defer { interrupts.cancel() }
        let outcome = try await coordinator.run(
            opening: opening, record: record, work: work, gatesPassed: gatesPassed,
            failedBefore: failedBefore)
        progress.finish()
        return (outcome, coordinator.record)
    }

    /// From the run's record — the fold of its journal, entry by entry, as it was written
    /// (what `fleetup report` folds again): the four reports in the run folder (and
    /// `--output`), counts per status, and where everything is.
    private func summarize(_ record: RunRecord) async throws {
        var unwritten: String?
        if let problem = await place.saveReports(RunReports.files(record)) {
            // A full disk: the journal has everything, the reports can be made again.
            unwritten = "the reports were not written (\(problem)); `fleetup report \(record.header.id)` writes them once there is room"
        }
        if let dir = options.output { try StoreFile.write(RunReports.files(record), into: dir) }
        var text = "\nrun \(record.header.id) \(record.outcome?.rawValue ?? "unfinished"): \(record.statusCounts.text)\n"
        if let why = record.haltReason { text += "\(record.outcome == .interrupted ? "stopped" : "halted"): \(why)\n" }
        text += "journal: \(place.journalText)\n"
        text += "reports: \(unwritten ?? place.reportsText)\n"
        if let dir = options.output { text += "copied:  \(dir)\n" }
        if record.outcome != .succeeded { text += "resume:  fleetup resume \(record.header.id)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        if options.json { FileHandle.standardOutput.write(Data(RunReports.render(record, .json).utf8)) }
    }

    /// Who runs fleetup, for the journal and the lock.
    static var user: String { SSHConfiguration.localUser }
    static var machine: String { ProcessInfo.processInfo.hostName }

    /// An inventory or playbook argument as an absolute path (a comma list stays as given).
    static func absolute(_ path: String) -> String {
        guard FileManager.default.fileExists(atPath: path) else { return path }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

extension BecomeOptions {
    /// How `become: true` steps run on each host: the host's become user and password
    /// (-K, `ansible_become_password`, FLEETUP_BECOME_PASSWORD), whether or not the host
    /// itself says `ansible_become`.
    func stepBecome(for hosts: [FleetCore.Host]) throws -> [String: Become] {
        var forced = self
        forced.become = true
        var out: [String: Become] = [:]
        for (name, b) in try forced.settings(for: hosts) { out[name] = b ?? Become() }
        return out
    }
}

/// The run could not start (a refused host key, no host reachable): exit 3.
struct StartRefusal: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
