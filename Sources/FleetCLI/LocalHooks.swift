import FleetCore
import FleetLocal
import FleetReports
import FleetRollout
import Foundation
import Synchronization

/// The playbook's hooks as local commands (docs/playbooks.md, "Hooks"): `sh -c` with the
/// event as JSON on stdin (`fleetup.hook/1`) and `FLEETUP_*` variables, in a process group
/// of its own that is ended (SIGKILL) at its timeout or when the run stops waiting for it.
/// Its environment is this process's without any `FLEETUP_*` variable of the caller's (they
/// may hold secrets: a store URL, a sudo password), plus the hook's own `env:`.
struct LocalHookRunner: HookRunner {
    let playbook: Playbook
    let overrides: [String: VarValue]
    /// Where the run's journal is, for the hook (`FLEETUP_JOURNAL`).
    let journal: String
    /// Values never written to the journal from a hook's output.
    let extraSecrets: [String]
    /// Bytes of output kept (the end).
    static let outputTail = 4096

    func run(_ hook: HookSpec, context: HookContext) async -> HookRecord {
        var record = HookRecord(point: context.point, name: hook.name, stage: context.stage, batch: context.batch)
        let scope = HookSpec.scope(playbook: playbook, overrides: overrides, context: context)
        let rendered: (command: Rendered, env: [String: String])
        do { rendered = try hook.rendered(in: scope) } catch {
            record.error = "its template: \(error.message)"
            return record
        }
        let redactor = Redactor(scope: scope, extra: extraSecrets)
        let base = NSTemporaryDirectory() + "fleetup-hook-\(getpid())-\(UUID().uuidString.prefix(8))"
        let input = base + ".json", output = base + ".out"
        defer {
            unlink(input)
            unlink(output)
        }
        do { try LocalProcess.writeFile(input, Array((Self.event(context).render() + "\n").utf8), mode: 0o600) } catch {
            record.error = "\(error)"
            return record
        }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FLEETUP_") }
        for (k, v) in Self.variables(context, journal: journal) { environment[k] = v }
        for (k, v) in rendered.env { environment[k] = v }
        let started = ContinuousClock.now
        let process: LocalProcess
        do {
            process = try LocalProcess(
                "/bin/sh", ["-c", rendered.command.text], environment: environment, output: (output, output), processGroup: true,
                stdin: input, mergeErrors: true)
        } catch {
            record.error = "\(error)"
            return record
        }
        let stopped = Atomic<Bool>(false)
        let watched = await withTaskCancellationHandler {
            try? await Blocking.run("fleetup-hook") {
                process.watch(until: started + hook.timeout) { kill(-process.pid, SIGKILL) }
            }
        } onCancel: {
            stopped.store(true, ordering: .relaxed)
            kill(-process.pid, SIGKILL)
        }
        record.durationMs = started.duration(to: .now).milliseconds
        if let watched {
            record.status = watched.exit.status
            record.signal = watched.exit.signal
            record.timedOut = watched.passedDeadline
        } else {
            record.error = "could not be waited for"
        }
        if stopped.load(ordering: .relaxed) && !record.timedOut { record.error = "ended: the run stopped waiting for it (Ctrl-C)" }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        record.output = redactor.redact(Redactor.tail(text, bytes: Self.outputTail))
        return record
    }

    /// `fleetup.hook/1`: what the hook is told, on its stdin.
    static func event(_ c: HookContext) -> JSON {
        .object([("schema", .string("fleetup.hook/1")), ("hook", .string(c.point.rawValue))] + facts(c))
    }

    /// The event's facts, as a hook's stdin and a `json` notification both give them.
    static func facts(_ c: HookContext) -> [(String, JSON)] {
        [
            ("run_id", .string(c.runID)), ("playbook", .string(c.playbook)), ("target", .string(c.target)), ("stage", .text(c.stage)),
            ("batch", .int(c.batch)), ("hosts", .array(c.hosts.map(JSON.string))), ("next_stage", .text(c.next)),
            ("outcome", .text(c.outcome?.rawValue)), ("reason", .text(c.reason)),
        ]
    }

    /// The same facts as variables, for a hook that is a one-line shell command.
    static func variables(_ c: HookContext, journal: String) -> [String: String] {
        var out = [
            "FLEETUP_HOOK": c.point.rawValue, "FLEETUP_RUN_ID": c.runID, "FLEETUP_PLAYBOOK": c.playbook, "FLEETUP_TARGET": c.target,
            "FLEETUP_JOURNAL": journal,
        ]
        if let s = c.stage { out["FLEETUP_STAGE"] = s }
        if let b = c.batch { out["FLEETUP_BATCH"] = String(b) }
        if !c.hosts.isEmpty { out["FLEETUP_HOSTS"] = c.hosts.joined(separator: " ") }
        if let n = c.next { out["FLEETUP_NEXT_STAGE"] = n }
        if let o = c.outcome { out["FLEETUP_OUTCOME"] = o.rawValue }
        if let r = c.reason { out["FLEETUP_REASON"] = r }
        return out
    }
}
