import FleetLocal
import FleetReports
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

@testable import FleetCLI

/// `--color auto|always|never` and NO_COLOR (docs/cli.md): colour only on a terminal and
/// when NO_COLOR is unset, unless the flag says otherwise; only outcome words are coloured.
@Suite("colour: --color and NO_COLOR")
struct ColorTests {
    static let red = "\u{1B}[31mFAILED\u{1B}[0m"

    @Test("the rule: always and never beat everything; auto needs a terminal, no NO_COLOR, no dumb TERM")
    func rule() {
        typealias C = ColorOptions
        #expect(C.colored(.always, terminal: false, environment: ["NO_COLOR": "1"]))
        #expect(!C.colored(.never, terminal: true, environment: [:]))
        #expect(C.colored(.auto, terminal: true, environment: ["TERM": "xterm"]))
        #expect(!C.colored(.auto, terminal: false, environment: [:]))
        #expect(!C.colored(.auto, terminal: true, environment: ["NO_COLOR": "1"]))
        #expect(C.colored(.auto, terminal: true, environment: ["NO_COLOR": ""]))  // set but empty: as unset (no-color.org)
        #expect(!C.colored(.auto, terminal: true, environment: ["TERM": "dumb"]))
    }

    @Test("the built fleetup: a pipe gets no colour, --color always does; on a terminal NO_COLOR turns it off")
    func builtBinary() async throws {
        let dir = NSTemporaryDirectory() + "color-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Port 1 of this machine refuses at once: a failed host without any network.
        try "h ansible_host=127.0.0.1 ansible_port=1\n".write(toFile: dir + "/hosts", atomically: true, encoding: .utf8)
        let bin = try TestFleet.builtProduct("fleetup")
        let ping = [bin, "ping", "-i", dir + "/hosts"]
        func run(_ args: [String], environment: [String: String] = [:]) async throws -> String {
            var env = ProcessInfo.processInfo.environment
            env["NO_COLOR"] = nil
            env.merge(environment) { _, new in new }
            let r = try await TestFleet.runProgram(args[0], Array(args.dropFirst()), environment: env)
            #expect(r.status == 3, "no host answered: \(r.stderr)")
            return r.stdout
        }
        let piped = try await run(ping)
        #expect(piped.contains("  FAILED  unreachable") && !piped.contains("\u{1B}["))
        #expect(try await run(ping + ["--color", "always"], environment: ["NO_COLOR": "1"]).contains(Self.red))
        #expect(!(try await run(ping + ["--color", "never"])).contains("\u{1B}["))
        // On a terminal (script(1) gives the command a pseudo-terminal): auto colours…
        let quoted = ping.map { "'\($0)'" }.joined(separator: " ")
        let script = try #require(LocalProcess.find("script"))
        let terminal = try await TestFleet.runProgram(
            script, ["-qec", quoted, "/dev/null"], environment: ["TERM": "xterm", "PATH": "/usr/bin:/bin"])
        #expect(terminal.stdout.contains(Self.red), "\(terminal.stdout)")
        // …unless NO_COLOR says not to.
        let off = try await TestFleet.runProgram(
            script, ["-qec", quoted, "/dev/null"], environment: ["TERM": "xterm", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"])
        #expect(off.stdout.contains("FAILED") && !off.stdout.contains("\u{1B}["), "\(off.stdout)")
    }

    @Test("colours never shift columns: the status table and the runs list are their plain text once the codes are taken out")
    func columns() throws {
        let colored = TextStyle(colored: true)
        let status = StatusReports.render(SampleStatus.status, .text, style: colored)
        #expect(status.contains("\u{1B}[32mhealthy") && status.contains("\u{1B}[31munhealthy"))
        #expect(Self.stripped(status) == StatusReports.render(SampleStatus.status, .text))
        let runs = [RunListing(id: SampleRun.id, record: SampleRun.record)]
        let list = RunList.text(runs, style: colored)
        #expect(list.contains("\u{1B}["))
        #expect(Self.stripped(list) == RunList.text(runs))
    }

    static func stripped(_ text: String) -> String {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
    }
}
