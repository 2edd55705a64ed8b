import FleetCore
import FleetReports
import FleetRollout
import Foundation
import Synchronization

/// Progress of a run on stderr, fed by the same events the journal gets (design.md §2).
/// On a terminal: finished hosts scroll above a live block of one line per host in flight
/// (its hop and step) and a stage/batch bar, redrawn in place. Otherwise: plain timestamped
/// lines, one per batch, host result, failure, halt and gate (`-v`: one per step too).
///
/// The coordinator shows each entry under its lock, in journal order; the text is made
/// there and written from a queue of its own, so the journal never waits on stderr.
public final class RunProgress: RunDisplay {
    private struct State {
        var stage = ""
        var batch = 0
        var batches: [String: Int] = [:]
        var batchHosts = 0
        var batchDone = 0
        var inFlight: [(host: String, doing: String)] = []
        /// Hosts that count against the failure policy, by the run's record.
        var failures = 0
        /// The live block's lines as printed (their lengths): how many rows it takes is
        /// worked out again at the terminal's width of the moment (a terminal reflows long
        /// lines when made narrower).
        var liveLengths: [Int] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let tty: Bool
    private let verbose: Bool
    private let out: FileHandle
    private let writer = DispatchQueue(label: "fleetup-progress")
    /// Lines of the live block at most (the rest are counted).
    private let liveLimit = 15
    /// Colours for the words that say how a host, a stage or the run ended.
    private let style: TextStyle

    /// Plain lines (no terminal) to `out`: what `scripts/bench scale` measures.
    public static func plain(header: RunHeader, out: FileHandle) -> RunProgress {
        RunProgress(header: header, tty: false, out: out)
    }

    init(
        header: RunHeader, tty: Bool = isatty(STDERR_FILENO) != 0, verbose: Bool = false,
        out: FileHandle = .standardError, style: TextStyle = .plain
    ) {
        self.style = style
        self.tty = tty
        self.verbose = verbose
        self.out = out
        state.withLock { s in for st in header.stages { s.batches[st.name] = st.batches.count } }
    }

    public func show(_ entry: JournalEntry, counts: StatusCounts) {
        let text: String = state.withLock { s in
            s.failures = counts.failures
            var lines: [String] = []
            switch entry.event {
            case .runStarted(let h):
                lines.append(
                    "run \(h.id): \(h.playbook) -> \(h.target) on \(h.hosts.count) hosts (\(h.stages.map { "\($0.name) \($0.batches.flatMap { $0 }.count)" }.joined(separator: ", ")))"
                )
            case .resumed(let user, let machine, let retry):
                lines.append("resumed by \(user)@\(machine)\(retry ? " (retrying failed hosts)" : "")")
            case .stageStarted(let stage):
                s.stage = stage
                lines.append("stage \(stage)")
            case .batchStarted(let stage, let batch, let hosts):
                s.stage = stage
                s.batch = batch
                s.batchHosts = hosts.count
                s.batchDone = 0
                lines.append("\(stage) batch \(batch)/\(s.batches[stage] ?? batch): \(hosts.count) host\(hosts.count == 1 ? "" : "s")")
            case .hostStarted(let host, let recheck, let resumeAt):
                if tty { s.inFlight.append((host, recheck ? "resuming" : "connecting")) }
                if let resumeAt { lines.append("  \(host): goes on from \(resumeAt)") }
            case .versionRead(let host, let v, _):
                set(&s, host, v.map { "on \($0)" } ?? "version unreadable")
            case .hopStarted(let host, let from, let to):
                set(&s, host, "\(from) -> \(to)")
                if verbose { lines.append("  \(host): \(from) -> \(to)") }
            case .stepStarted(let host, let step):
                let what = step.phase == .rollback ? "rollback: \(step.name)" : step.name
                set(&s, host, "\(step.from) -> \(step.to): \(what)\(step.attempt > 1 ? " (try \(step.attempt))" : "")")
                if verbose { lines.append("  \(host): \(what)") }
            case .stepFinished(let host, let r):
                if !r.succeeded { lines.append("  \(host): step \"\(r.step.name)\" \(r.outcomeText)") }
            case .healthChecked(let host, let r):
                if !r.healthy {
                    lines.append("  \(host): unhealthy (\(r.context))")
                } else if verbose {
                    lines.append("  \(host): healthy (\(r.context))")
                }
            case .hostFinished(let host, let r):
                if tty { s.inFlight.removeAll { $0.host == host } }
                s.batchDone += 1
                let tone = TextStyle.tone(r.outcome)
                var line = "\(style.paint(Self.mark(r.outcome), tone)) \(host): \(style.paint(r.outcome.rawValue, tone))"
                if let b = r.versionBefore, let a = r.versionAfter, b != a {
                    line += " \(b) -> \(a)"
                } else if let b = r.versionBefore {
                    line += " (\(b))"
                }
                // The message of an unreachable host starts with "unreachable: " itself.
                if let m = r.message {
                    line += ": " + (m.hasPrefix(r.outcome.rawValue + ": ") ? String(m.dropFirst(r.outcome.rawValue.count + 2)) : m)
                }
                lines.append(line)
                if let restore = r.restore { lines.append("    restore: \(restore)") }
            case .hostsSkipped(let hosts, _):
                lines.append("skipped after the halt: \(HostListText.compact(hosts))")
            case .gate(let stage, let next, let decision, let detail):
                lines.append(
                    "gate after \(stage): \(decision.rawValue)\(detail.map { " (\($0))" } ?? "")\(decision == .open ? "" : ", next: \(next)")"
                )
            case .gateWaiting(let stage, _):
                lines.append("gate after \(stage): waiting for an approval (`fleetup approve`)")
            case .halted(let reason):
                lines.append("\(style.paint("HALTED", .bad)): \(reason)")
            case .draining:
                s.draining = true
                lines.append("interrupted: draining (hosts in flight finish their upgrade; nothing new starts; Ctrl-C again to end them)")
            case .aborting:
                lines.append("interrupted again: ending the commands in flight")
            case .runFinished(let o):
                lines.append("run \(style.paint(o.rawValue, TextStyle.tone(o)))")
            case .hookRan(let hook):
                if !hook.passed || verbose { lines.append(hook.passed ? hook.summary : style.paint(hook.summary, .bad)) }
            case .notified(let n):
                if !n.delivered || verbose { lines.append(n.delivered ? n.summary : style.paint(n.summary, .warn)) }
            case .note(let host, let text):
                lines.append(host.map { "  \($0): \(text)" } ?? text)
            }
            return render(&s, lines, time: entry.time)
        }
        if !text.isEmpty { write(text) }
    }

    private func write(_ text: String) {
        let out = self.out
        writer.async { out.write(Data(text.utf8)) }
    }

    /// What a host in flight is doing, for the live block: only a terminal has one (plain
    /// lines keep no list: finding the host among 500 in flight for each of its events, and
    /// the text, were a tenth of a 5,000-host run's CPU).
    private func set(_ s: inout State, _ host: String, _ doing: @autoclosure () -> String) {
        guard tty else { return }
        if let i = s.inFlight.firstIndex(where: { $0.host == host }) { s.inFlight[i].doing = doing() }
    }

    /// Permanent lines, then (on a terminal) the live block redrawn below them.
    private func render(_ s: inout State, _ lines: [String], time: WallTime) -> String {
        guard tty else {
            if lines.isEmpty { return "" }
            let clock = String(time.tableText.suffix(8))
            return lines.map { "\(clock) \($0)\n" }.joined()
        }
        var out = ""
        let columns = Self.columns()
        let rows = Self.rows(s.liveLengths, columns: columns)
        if rows > 0 { out += "\u{1B}[\(rows)F\u{1B}[J" }
        for l in lines { out += l + "\n" }
        var live: [String] = []
        for f in s.inFlight.prefix(liveLimit) { live.append("  … \(f.host): \(f.doing)") }
        if s.inFlight.count > liveLimit { live.append("  … and \(s.inFlight.count - liveLimit) more in flight") }
        if !s.stage.isEmpty && s.batchHosts > 0 {
            let width = 20
            let filled = s.batchHosts == 0 ? 0 : s.batchDone * width / s.batchHosts
            let failed = s.failures
            live.append(
                "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
                    + "\(s.stage) batch \(s.batch)/\(s.batches[s.stage] ?? s.batch): \(s.batchDone)/\(s.batchHosts) done"
                    + (failed > 0 ? ", \(failed) failed in the run" : "") + (s.draining ? ", draining" : ""))
        }
        // One screen line each, whatever the width (read again at every redraw: a resize
        // takes effect at once): a wrapped line would leave the block's start above the
        // lines the cursor goes back up over.
        let width = columns.map { max(10, $0 - 1) }
        let shown = live.map { l in width.map { l.count > $0 ? String(l.prefix($0 - 1)) + "…" : l } ?? l }
        for l in shown { out += l + "\n" }
        s.liveLengths = shown.map(\.count)
        return out
    }

    /// Writes what is queued, then clears the live block (before the summary).
    public func finish() {
        let text = state.withLock { s -> String in
            defer { s.liveLengths = [] }
            let rows = Self.rows(s.liveLengths, columns: Self.columns())
            return tty && rows > 0 ? "\u{1B}[\(rows)F\u{1B}[J" : ""
        }
        if !text.isEmpty { write(text) }
        writer.sync {}
    }

    /// Rows that lines of these lengths take at `columns` (each at least one).
    static func rows(_ lengths: [Int], columns: Int?) -> Int {
        guard let c = columns, c > 0 else { return lengths.count }
        return lengths.reduce(0) { $0 + max(1, ($1 + c - 1) / c) }
    }

    /// The terminal's width (standard error's), or nil when it says none.
    static func columns() -> Int? {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    static func mark(_ o: HostOutcome) -> String {
        switch o {
        case .upgraded, .alreadyCurrent: return "ok"
        case .skippedAfterHalt, .interrupted: return "--"
        case .failed, .rolledBack, .unreachable: return "!!"
        }
    }
}

/// Host names in one line, shortened past a few.
enum HostListText {
    static func compact(_ hosts: [String], limit: Int = 8) -> String {
        hosts.count <= limit
            ? hosts.joined(separator: ", ")
            : hosts.prefix(limit).joined(separator: ", ") + " and \(hosts.count - limit) more"
    }
}
