import ArgumentParser
import FleetCore
import FleetPostgres
import FleetRollout
import FleetStore
import Foundation
import Synchronization

/// `fleetup approve [RUN] [--stage S] [--reason TEXT]`: approves a run's manual gate from
/// anywhere — another terminal on the machine of its state folder, or any machine of the
/// team's store (docs/store.md). A run waiting at that gate goes on within a second or two,
/// and its journal says who approved, when and why.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a run's manual gate, from any terminal or machine that sees its store.",
        discussion: """
            RUN is a run id, a prefix only it has, or `latest` (the default). --stage is the stage \
            whose gate is approved (default: the first stage whose gate the run has not passed). A \
            run waiting at that gate (on a terminal, or with --wait-for-approval in CI) goes on \
            when the approval lands; a run that stopped at it goes on with `fleetup resume`, which \
            finds the approval. The first approval of a gate is the one kept. Exit status: 0 \
            approved, 1 already approved or passed, 2 bad input (no such run or stage), 3 the store \
            cannot be reached.
            """)

    @Argument(help: ArgumentHelp("The run (id, unique prefix, or latest).", valueName: "run"))
    var runName: String = "latest"

    @Option(help: ArgumentHelp("The stage whose gate is approved (default: the next one the run has not passed).", valueName: "STAGE"))
    var stage: String?

    @Option(help: ArgumentHelp("Why (kept in the journal and the reports).", valueName: "TEXT"))
    var reason: String?

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let loaded = try await store.load(runName)
        let record = loaded.record
        let stages = record.header.stages.map(\.name)
        let gated = Array(stages.dropLast())
        // The first gate not passed yet: never reached, or reached and not approved.
        let passed: Set<GateDecision> = [.approved, .open, .soaked]
        let stage = self.stage ?? gated.first { record.gates[$0].map { !passed.contains($0) } ?? true } ?? ""
        guard gated.contains(stage) else {
            throw ValidationError(
                self.stage == nil
                    ? "run \(loaded.id) has passed every gate (stages: \(stages.joined(separator: ", ")))"
                    : "--stage \(stage): run \(loaded.id) has no gate after it (gates follow: \(gated.joined(separator: ", ")))")
        }
        if let decision = record.gates[stage], passed.contains(decision) {
            FileHandle.standardError.write(
                Data("fleetup: the gate after \(stage) of run \(loaded.id) was already passed (\(decision.rawValue))\n".utf8))
            throw ExitCode(1)
        }
        let approval = Approval(by: RunSession.user, machine: RunSession.machine, at: WallTime.now.iso(milliseconds: false), reason: reason)
        let source = loaded.approvals(folders: store.store)
        if let earlier = try await source.record(approval, run: loaded.id, stage: stage) {
            FileHandle.standardError.write(Data("fleetup: the gate after \(stage) of run \(loaded.id) was already \(earlier.text)\n".utf8))
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(Data("approved the gate after \(stage) of run \(loaded.id) (\(approval.text))\n".utf8))
    }
}

/// One approval of a gate: who, from where, when, why.
struct Approval: Sendable, Codable, Equatable {
    var by: String
    var machine: String
    var at: String
    var reason: String?

    /// `approved by bob@ops2 at 2026-12-07T15:20:01Z: looks good`
    var text: String { "approved by \(by)@\(machine) at \(at)" + (reason.map { ": \($0)" } ?? "") }
}

/// Where a run's approvals land: its run folder, or the store.
protocol ApprovalSource: Sendable {
    /// The approval of `stage`'s gate, once one is there.
    func approval(run: String, stage: String) async throws -> Approval?
    /// Records `approval` unless one is there already, which is returned instead.
    func record(_ approval: Approval, run: String, stage: String) async throws -> Approval?
}

/// `<run folder>/approvals/<stage>.json`, made with O_EXCL: the first approval wins.
struct FolderApprovals: ApprovalSource {
    let folder: RunFolder

    func path(_ stage: String) -> String {
        folder.path + "/approvals/" + String(stage.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }) + ".json"
    }

    func approval(run: String, stage: String) async throws -> Approval? {
        guard let data = FileManager.default.contents(atPath: path(stage)) else { return nil }
        return try? JSONDecoder().decode(Approval.self, from: data)
    }

    func record(_ approval: Approval, run: String, stage: String) async throws -> Approval? {
        let file = path(stage)
        try FileManager.default.createDirectory(atPath: folder.path + "/approvals", withIntermediateDirectories: true)
        let temporary = file + ".\(getpid()).tmp"
        try JSONEncoder().encode(approval).write(to: URL(fileURLWithPath: temporary))
        defer { unlink(temporary) }
        // link(2) fails when the file exists: one approval per gate, never overwritten.
        if link(temporary, file) != 0 {
            if errno == EEXIST { return try await self.approval(run: run, stage: stage) }
            throw StoreError(.io, path: file, "cannot record the approval: \(String(cString: strerror(errno)))")
        }
        return nil
    }
}

/// The store's fleetup_approvals.
struct StoreApprovals: ApprovalSource {
    let url: PostgresURL

    func approval(run: String, stage: String) async throws -> Approval? {
        try await PGConnection.with(url) { db in
            let rows = try await db.execute(
                "SELECT approved_by, machine, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), reason FROM fleetup_approvals WHERE run_id = $1 AND stage = $2",
                [run, stage]
            ).rows
            guard let r = rows.first else { return nil }
            return Approval(by: r[0] ?? "?", machine: r[1] ?? "?", at: r[2] ?? "?", reason: r[3])
        }
    }

    func record(_ approval: Approval, run: String, stage: String) async throws -> Approval? {
        let inserted = try await PGConnection.with(url) { db in
            try await db.execute(
                "INSERT INTO fleetup_approvals (run_id, stage, approved_by, machine, at, reason) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                [run, stage, approval.by, approval.machine, approval.at, approval.reason]
            ).affected
        }
        return inserted == 1 ? nil : try await self.approval(run: run, stage: stage)
    }
}

/// Manual gates approved from anywhere: `--yes`/`--approve` first, then an approval already
/// in the store; then, on a terminal, the y/N prompt while approvals are looked for every
/// second (whichever comes first); without a terminal, approvals looked for during
/// `--wait-for-approval` (none: the run stops at the gate, as before).
struct SharedGateKeeper: GateKeeper {
    let terminal: TerminalGateKeeper
    let source: any ApprovalSource
    let runID: String
    let wait: Duration?

    func approve(stage: String, next: String) async -> (GateDecision, String?) {
        await approve(stage: stage, next: next, waiting: {})
    }

    func approve(stage: String, next: String, waiting: @escaping @Sendable () async -> Void) async -> (GateDecision, String?) {
        if terminal.approved == nil || terminal.approved!.contains(stage) { return await terminal.approve(stage: stage, next: next) }
        if let a = try? await source.approval(run: runID, stage: stage) { return (.approved, a.text) }
        guard terminal.interactive || wait != nil else { return await terminal.approve(stage: stage, next: next) }
        await waiting()
        FileHandle.standardError.write(
            Data(
                "fleetup: waiting at the gate after \(stage): `fleetup approve \(runID) --stage \(stage)` from any terminal of this store\n"
                    .utf8))
        let deadline = wait.map { ContinuousClock.now + $0 }
        let poll = { @Sendable () async -> (GateDecision, String?) in
            while !Task.isCancelled {
                if let a = try? await source.approval(run: runID, stage: stage) {
                    FileHandle.standardError.write(Data("\nfleetup: the gate after \(stage) was \(a.text)\n".utf8))
                    return (.approved, a.text)
                }
                if let deadline, ContinuousClock.now >= deadline, !terminal.interactive {
                    return (
                        .notApproved,
                        "nobody approved the gate after \(stage) within \(DurationText.format(wait!)): "
                            + "`fleetup approve \(runID) --stage \(stage)`, then `fleetup resume \(runID)`"
                    )
                }
                try? await Task.sleep(for: .seconds(1))
            }
            return (.notApproved, "the wait at the gate after \(stage) was interrupted")
        }
        guard terminal.interactive else { return await poll() }
        // The prompt and the approvals race; the first answer is the gate's. The prompt's
        // read cannot be cancelled: when an approval wins, it is left waiting on stdin.
        let first = FirstAnswer()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<(GateDecision, String?), Never>) in
                first.set(c)
                let polling = Task {
                    let r = await poll()
                    first.resume(r)
                }
                first.onResume { polling.cancel() }
                Task.detached { first.resume(await terminal.approve(stage: stage, next: next)) }
            }
        } onCancel: {
            first.resume((.notApproved, "the wait at the gate after \(stage) was interrupted"))
        }
    }
}

/// The first of several answers, given to one continuation exactly once.
final class FirstAnswer: Sendable {
    private struct State {
        var continuation: CheckedContinuation<(GateDecision, String?), Never>?
        var early: (GateDecision, String?)?
        var done = false
        var onResume: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func set(_ c: CheckedContinuation<(GateDecision, String?), Never>) {
        let early = state.withLock { s -> (GateDecision, String?)? in
            if let e = s.early { s.early = nil; return e }
            s.continuation = c
            return nil
        }
        if let early { c.resume(returning: early) }
    }

    func onResume(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.done { return true }
            s.onResume = action
            return false
        }
        if now { action() }
    }

    func resume(_ answer: (GateDecision, String?)) {
        let (c, action) = state.withLock { s -> (CheckedContinuation<(GateDecision, String?), Never>?, (@Sendable () -> Void)?) in
            if s.done { return (nil, nil) }
            s.done = true
            guard let c = s.continuation else {
                s.early = answer
                return (nil, s.onResume)
            }
            s.continuation = nil
            return (c, s.onResume)
        }
        c?.resume(returning: answer)
        action?()
    }
}

extension LoadedRun {
    /// Where this run's approvals land.
    func approvals(folders: RunStore) -> any ApprovalSource {
        switch location {
        case .folder(let folder): return FolderApprovals(folder: folder)
        case .store(let url): return StoreApprovals(url: url)
        }
    }
}
