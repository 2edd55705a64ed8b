import ArgumentParser
import FleetConfig
import FleetCore
import FleetPrepare
import FleetRollout
import FleetSSH
import FleetStore
import Foundation

/// `fleetup run PLAYBOOK -i INV…`: the rolling upgrade (design.md §5).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Upgrade the fleet: stage by stage, batch by batch, health-checked, halting per the failure policy.",
        discussion: """
            Checks the playbook and inventory as `fleetup check` does, takes the fleet's lock, then \
            upgrades each host along its release path (its version read live), checking health after \
            every hop. Every state change is in the run's journal before the next action, so \
            `fleetup resume` continues a halted, interrupted or killed run. First Ctrl-C: nothing new \
            starts, hosts in flight finish; second: their commands are ended; third: quit at once. \
            Exit status: 0 every host upgraded or already current, 1 failed, halted, interrupted or \
            waiting at a gate, 2 bad input, 3 could not start (lock held, host key refused).
            """)

    @OptionGroup var playbook: PlaybookOptions
    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var become: BecomeOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var run: RunOptions

    func run() async throws {
        var inputs = try playbook.prepare(inventory)
        inputs.playbook = run.apply(to: inputs.playbook)
        // The journal records the playbook by its absolute path, which `resume` loads: its
        // relative upload sources must resolve to the same text now, or a resumed host's
        // finished steps would not match the steps planned again (checked before this, the
        // playbook's own messages kept the path as typed).
        inputs.playbook.file = RunSession.absolute(playbook.path)
        try run.checkApprovals(stages: inputs.stages.map(\.name))
        let plan = inputs.plan()
        let fleet = try inputs.fleet()
        try await RunSession.start(
            hosts: inputs.hosts, fleet: fleet, inventory: inventory.inventories, connection: connection,
            become: become
        ) { executor, becomes in
            let place = try await store.newRun(fleet: fleet, executor: executor)
            let header = RunHeader(
                id: place.runID, user: RunSession.user, machine: RunSession.machine,
                fleetupVersion: Fleetup.configuration.version, plan: plan,
                playbookFile: RunSession.absolute(playbook.path),
                inventories: inventory.inventories.map(RunSession.absolute),
                overrides: inputs.overrides.keys.sorted(), forks: connection.forks, rollback: !run.noRollback,
                fleetKey: fleet.key.hex)
            let session = RunSession(
                setup: RunSession.makeSetup(inputs, hosts: inputs.hosts, header: header, becomes: becomes),
                place: place, executor: executor, options: run)
            let code = try await session.execute(opening: .runStarted(header))
            if code != 0 { throw ExitCode(code) }
        }
    }
}

/// `fleetup resume [RUN]`: goes on with a halted, interrupted or killed run from its journal.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a halted, interrupted or killed run from its journal.",
        discussion: """
            Loads the run's playbook and inventories again (from the paths its journal recorded), \
            keeps its plan (stages and batches), and goes on: hosts done are not touched; a host \
            the journal left mid-hop goes on from the first step of that hop that did not finish \
            (that step runs again), never from the version it reports; hosts never started run; \
            failed hosts are retried (from where they failed) only with --retry-failed; --replan \
            HOST plans a host afresh from the version it reports (after you restored it). --plan \
            shows what each host would do and changes nothing. Connection options (--known-hosts, \
            …) and secrets (--var, FLEETUP_BECOME_PASSWORD) are given again: the journal does not \
            keep them. RUN is a run id or a unique prefix; default: the latest run. Exit status: \
            as run's — 0 every host upgraded or already current, 1 failed, halted, interrupted or \
            waiting at a gate, 2 bad input (or a run that cannot be read back), 3 could not start.
            """)

    @Argument(help: ArgumentHelp("The run (id or unique prefix; default: the latest).", valueName: "run"))
    var runID: String?

    @Flag(name: .customLong("retry-failed"), help: "Also retry the hosts that failed, from where each failed.")
    var retryFailed = false

    @Option(
        name: .customLong("replan"),
        help: ArgumentHelp(
            "Plan this host afresh from the version it reports, whatever its journal says (repeatable).",
            valueName: "HOST"))
    var replan: [String] = []

    @Flag(name: .customLong("plan"), help: "Show what each host would do, then stop: nothing is connected or changed.")
    var planOnly = false

    @Option(name: .customLong("var"), help: ArgumentHelp("A variable, as for run (repeatable).", valueName: "K=V"))
    var vars: [String] = []

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var become: BecomeOptions
    @OptionGroup var vault: VaultOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var run: RunOptions

    func validate() throws {
        try PlaybookOptions.validate(vars: vars)
        if planOnly && run.json { throw ValidationError("--plan prints what would run as text; --json goes with a resume that runs") }
    }

    func run() async throws {
        let stored = try await store.load(runID ?? "latest", resuming: true)
        // A lost entry may be a step that finished: going on could run it again.
        if let gap = stored.gaps.first {
            throw StoreError(
                .corruptJournal, path: gap.path, line: gap.line,
                "\(gap.message): resume could run a finished step again, so it does not go on; "
                    + "`fleetup report \(stored.id)` shows what the journal holds; the hosts this run left "
                    + "mid-upgrade keep their host locks (`fleetup lock status`): check each by hand, then "
                    + "`fleetup lock release --force` lets a new run take them")
        }
        let record = stored.record
        if let refusal = ResumePlanner.refusal(record) { throw ConfigError(file: stored.journalText, refusal) }
        for name in replan where record.host(name) == nil {
            throw ValidationError(
                "--replan \(name): not a host of run \(record.header.id)"
                    + (TemplateScope.nearest(name, in: record.header.hosts).map { " (did you mean \"\($0)\"?)" } ?? ""))
        }
        let h = record.header
        // The run's own files and target, with the --var values given again (the journal keeps
        // none: they may be secret).
        var inputs = try RunInputs.prepare(
            RunRequest(
                playbook: h.playbookFile, inventories: h.inventories, target: h.target,
                overrides: try PlaybookOptions.overrides(vars), vault: try vault.keyring()))
        RunSession.warn(inputs.warnings)
        try run.checkApprovals(stages: h.stages.map(\.name))
        // The run goes on under the policy it started with (its plan's batches were cut by it);
        // `--pause`/`--soak` given again still win.
        if let started = h.rolling {
            if let note = ResumePlanner.policyNote(started: started, now: inputs.playbook.rolling) {
                FileHandle.standardError.write(Data("fleetup: note: \(note)\n".utf8))
            }
            inputs.playbook.rolling = started
        }
        inputs.playbook = run.apply(to: inputs.playbook)
        // The plan is the journal's: hosts by name from the inventory as it is now.
        let (hosts, missing) = inputs.hosts(named: h.hosts)
        if !missing.isEmpty {
            FileHandle.standardError.write(
                Data("fleetup: warning: not in the inventory any more (they fail): \(HostListText.compact(missing))\n".utf8))
        }
        let work = ResumePlanner.work(for: record, retryFailed: retryFailed, replan: Set(replan))
        let byName = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let preview = ResumePreview.lines(
            record, work: work, playbook: inputs.playbook, hosts: byName, target: inputs.target,
            overrides: inputs.overrides)
        if planOnly {
            FileHandle.standardOutput.write(Data((ResumePreview.header(record) + "\n" + preview.map { "  \($0)\n" }.joined()).utf8))
            return
        }
        FileHandle.standardError.write(Data(("resume \(h.id):\n" + preview.map { "  \($0)\n" }.joined()).utf8))
        let fleet = try inputs.fleet()
        var header = h
        header.forks = connection.forks
        header.rollback = !run.noRollback && h.rollback
        try await RunSession.start(
            hosts: hosts, fleet: fleet, inventory: h.inventories, connection: connection,
            become: become
        ) { executor, becomes in
            let session = RunSession(
                setup: RunSession.makeSetup(inputs, hosts: hosts, header: header, becomes: becomes),
                place: stored.place(fleet, executor, folders: store.store), executor: executor, options: run)
            let code = try await session.execute(
                opening: .resumed(user: RunSession.user, machine: RunSession.machine, retryFailed: retryFailed),
                record: record, lastSeq: record.lastSeq, work: work, gatesPassed: ResumePlanner.gatesPassed(record),
                failedBefore: ResumePlanner.failedBefore(record, retryFailed: retryFailed, replan: Set(replan)))
            if code != 0 { throw ExitCode(code) }
        }
    }
}
