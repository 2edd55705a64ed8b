import FleetCore
import FleetLocal
import FleetTestFleet
import Foundation
import Testing

/// One command in a real pseudo-terminal: a tmux server of the test's own (`-L`), a window
/// of a given size, keys sent as a person types them, the screen read back. Waits are for
/// text on the screen or the command's end, never for a stretch of time.
struct TmuxScreen {
    let socket: String
    let tmux: String
    /// Where the shell writes the command's exit status when it ends.
    let statusFile: String

    /// Starts `command` (a shell line) in a new `width`×`height` window; the pane stays after
    /// the command ends, so its last screen can be read, and the exit status is written to
    /// a file (tmux's own pane status can lag behind the pane's end).
    static func start(_ command: String, width: Int = 120, height: Int = 40) throws -> TmuxScreen {
        let tmux = try #require(LocalProcess.find("tmux"), "tmux is missing: scripts/lib/ensure-packages installs it")
        let name = "fleetup-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let screen = TmuxScreen(socket: name, tmux: tmux, statusFile: NSTemporaryDirectory() + name + ".status")
        try LocalProcess.run(
            tmux, ["-L", screen.socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "\(width)", "-y", "\(height)", "sh"])
        try screen.tmuxRun(["set-option", "-t", "t", "remain-on-exit", "on"])
        try screen.tmuxRun([
            "respawn-pane", "-k", "-t", "t",
            "\(command); echo $? > '\(screen.statusFile).tmp' && mv '\(screen.statusFile).tmp' '\(screen.statusFile)'",
        ])
        return screen
    }

    @discardableResult
    func tmuxRun(_ args: [String]) throws -> String { try LocalProcess.run(tmux, ["-L", socket] + args) }

    /// The visible screen, and (with `history`) what scrolled off it.
    func text(history: Bool = true) -> String {
        (try? tmuxRun(["capture-pane", "-p", "-J"] + (history ? ["-S", "-500"] : []) + ["-t", "t"])) ?? ""
    }

    func send(_ keys: String...) throws { try tmuxRun(["send-keys", "-t", "t"] + keys) }

    func resize(width: Int, height: Int = 40) throws { try tmuxRun(["resize-window", "-t", "t", "-x", "\(width)", "-y", "\(height)"]) }

    /// The exit status once the command has ended, else nil.
    func exitStatus() -> Int32? {
        (try? String(contentsOfFile: statusFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Waits until `condition` holds for the screen (checked every 50 ms; `limit` only ends a
    /// test whose awaited text never comes, with the screen in the message).
    func wait(
        for what: String, limit: Duration = .seconds(300), detail: () -> String = { "" }, _ condition: (String) -> Bool
    ) async throws {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if condition(text()) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("never on the screen: \(what)\n\(text())\n\(detail())")
        throw CancellationError()
    }

    func waitForText(_ needle: String) async throws { try await wait(for: needle) { $0.contains(needle) } }

    func waitForExit(detail: () -> String = { "" }) async throws -> Int32 {
        try await wait(for: "the command's end", detail: detail) { _ in exitStatus() != nil }
        return exitStatus()!
    }

    func close() {
        _ = try? tmuxRun(["kill-server"])
        unlink(statusFile)
    }
}

/// The run as a person at a terminal sees it (issue 16 point 4): the manual gate's prompt
/// answered y, answered n, Ctrl-C at it; the live block in a window made narrow mid-run; the
/// same run piped to a file; `status --watch` redrawing in place.
@Suite("a terminal, tested as a person uses it", .serialized)
struct TerminalTests {
    /// A loopback Mattermost fleet (staging 1, prod 1) and the showcase playbook (gate
    /// manual, no pause), run in tmux; `answer` is typed at the gate. The last screen, the
    /// run's record and fleetup's exit status.
    static func runAtGate(_ answer: [String]) async throws -> (screen: String, record: RunRecord, status: Int32) {
        let spec = RunScenario.twoHosts
        return try await TestFleet.with(spec) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let line = ([try RunScenario.binary] + s.runArguments).map { "'\($0)'" }.joined(separator: " ")
            let screen = try TmuxScreen.start("TERM=xterm " + line)
            defer { screen.close() }
            try await screen.waitForText("staging passed. Start prod? [y/N]")
            for key in answer { try screen.send(key) }
            let status = try await screen.waitForExit()
            return (screen.text(), try s.record(), status)
        }
    }

    @Test("the gate's prompt answered y: prod goes on, the run succeeds, the screen ends with the summary")
    func gateYes() async throws {
        let (text, record, status) = try await Self.runAtGate(["y", "Enter"])
        #expect(status == 0, "\(text)")
        #expect(record.gates["staging"] == .approved && record.outcome == .succeeded)
        #expect(text.contains("ok prod01: upgraded 5.2.0 -> 5.3.0") && text.contains("run \(record.header.id) succeeded"), "\(text)")
        // The live block is gone once the run ends: no "… host: doing" line is left on the screen.
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("  … ") }, "\(text)")
    }

    @Test("the gate's prompt answered n: declined, prod untouched, the run halted (exit 1)")
    func gateNo() async throws {
        let (text, record, status) = try await Self.runAtGate(["n", "Enter"])
        #expect(status == 1, "\(text)")
        #expect(record.gates["staging"] == .declined && record.outcome == .halted)
        #expect(record.host("prod01")?.outcome == .skippedAfterHalt)
    }

    @Test("the window made narrow while a host is in flight: the live block stays one line per host and is cleared at the end")
    func resize() async throws {
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec) { fleet in
            let s = try await RunScenario.mattermost(fleet, edits: [.hold])
            let staging = fleet.hosts.first { $0.name == "staging01" }!
            try s.hold(staging)
            let line = ([try RunScenario.binary] + s.runArguments + ["--yes"]).map { "'\($0)'" }.joined(separator: " ")
            let screen = try TmuxScreen.start("TERM=xterm " + line, width: 140)
            defer { screen.close() }
            // The live line of the held step is wider than the window will be.
            try await screen.waitForText("  … staging01: 5.2.0 -> 5.3.0: hold (test)")
            // Narrower: the terminal reflows the wide live line over several rows, which the
            // next redraw must clear (it counts rows at the width of the moment).
            try screen.resize(width: 40)
            try s.letGo(staging)
            #expect(try await screen.waitForExit() == 0)
            let text = screen.text()
            #expect(text.contains("ok staging01: upgraded") && text.contains("ok prod01: upgraded"), "\(text)")
            #expect(!text.split(separator: "\n").contains { $0.hasPrefix("  … ") || $0.hasPrefix("[#") || $0.hasPrefix("[.") }, "\(text)")
        }
    }

    @Test("progress to a file, not the terminal: plain time-stamped lines, no escape sequence")
    func piped() async throws {
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let log = fleet.directory + "/progress.txt"
            let line = ([try RunScenario.binary] + s.runArguments + ["--yes"]).map { "'\($0)'" }.joined(separator: " ")
            let screen = try TmuxScreen.start("TERM=xterm \(line) 2> '\(log)'")
            defer { screen.close() }
            let status = try await screen.waitForExit {
                let ps = (try? LocalProcess.run("/bin/ps", ["-eo", "pid,ppid,stat,wchan:20,args"])) ?? ""
                return "progress:\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "none")
                    + "\nprocesses:\n" + ps.split(separator: "\n").filter { $0.contains("fleetup") }.joined(separator: "\n")
            }
            #expect(status == 0)
            let text = try String(contentsOfFile: log, encoding: .utf8)
            #expect(!text.contains("\u{1B}"), "\(text)")
            let lines = text.split(separator: "\n")
            #expect(
                lines.contains {
                    $0.range(of: #"^\d\d:\d\d:\d\d ok staging01: upgraded 5.2.0 -> 5.3.0"#, options: .regularExpression) != nil
                })
            #expect(!lines.contains { $0.contains("… staging01") }, "no live block in a file")
        }
    }

    @Test("status --watch: the table redrawn in place; a host turning unhealthy shows up; Ctrl-C ends it with that status")
    func statusWatch() async throws {
        let spec = RunScenario.twoHosts
        try await TestFleet.with(spec) { fleet in
            let s = try await RunScenario.mattermost(fleet)
            let args =
                [try RunScenario.binary, "status", s.playbook] + s.inventories.flatMap { ["-i", $0] } + [
                    "--known-hosts", fleet.knownHosts, "--state-dir", s.stateDir, "--watch", "1",
                ]
            let screen = try TmuxScreen.start("TERM=xterm " + args.map { "'\($0)'" }.joined(separator: " "))
            defer { screen.close() }
            try await screen.waitForText("Ctrl-C stops")
            #expect(screen.text(history: false).contains("prod01"))
            let prod = fleet.hosts.first { $0.name == "prod01" }!
            try fleet.setControl("fail-health", on: prod, onlyAt: "5.2.0")
            try await screen.wait(for: "prod01 unhealthy after a redraw") { _ in
                screen.text(history: false).split(separator: "\n").contains { $0.hasPrefix("prod01") && $0.contains("unhealthy") }
            }
            // In place: the visible screen holds one table, not one per check.
            #expect(screen.text(history: false).components(separatedBy: "HOST ").count == 2)
            try screen.send("C-c")
            #expect(try await screen.waitForExit() == 1, "the last check found prod01 unhealthy")
        }
    }

    @Test("Ctrl-C at the prompt: the run stops interrupted, prod pending — resume goes on with it")
    func gateInterrupted() async throws {
        let (text, record, status) = try await Self.runAtGate(["C-c"])
        #expect(status == 1, "\(text)")
        #expect(record.outcome == .interrupted)
        #expect(record.host("prod01")?.outcome == nil, "prod01 never started: resume runs it")
    }
}
