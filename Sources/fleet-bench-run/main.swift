// fleet-bench-run: fleetup's own cost of a rolling run, without SSH (issue 17, point 2;
// `scripts/bench scale` runs it). The real playbook loader, planner, coordinator and
// machines, the journal (real files, real fdatasync, group commit), the fold, the live
// progress (plain lines, written to /dev/null) and the four reports, driven by an executor
// that answers every command at once: what is measured is fleetup alone.
//
//   fleet-bench-run [--hosts 5000] [--steps 10] [--probes 1] [--batch 10%] [--forks 500] --dir DIR
//
// Prints one line of figures: wall and CPU seconds (getrusage), peak RSS, the run's
// outcome. The journal, run.json and the reports stay in DIR for the caller to check (and
// count: counting the journal's lines here was 14 % of the process's CPU, not fleetup's).
import FleetCLI
import FleetConfig
import FleetCore
import FleetReports
import FleetRollout
import FleetStore
import Foundation
import Synchronization

import struct FleetCore.Host

struct Options {
    var hosts = 5000
    var steps = 10
    var probes = 1
    var batch = "10%"
    var forks = 500
    var dir = ""
}

func die(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fleet-bench-run: \(message)\n".utf8))
    exit(2)
}

var options = Options()
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let flag = args.removeFirst()
    guard !args.isEmpty else { die("\(flag) needs a value") }
    let value = args.removeFirst()
    switch flag {
    case "--hosts": options.hosts = Int(value) ?? 0
    case "--steps": options.steps = Int(value) ?? 0
    case "--probes": options.probes = Int(value) ?? -1
    case "--batch": options.batch = value
    case "--forks": options.forks = Int(value) ?? 0
    case "--dir": options.dir = value
    default: die("unknown option \(flag)")
    }
}
guard options.hosts > 0, options.steps > 0, options.probes >= 0, options.forks > 0, !options.dir.isEmpty else {
    die("usage: fleet-bench-run [--hosts N] [--steps N] [--probes N] [--batch SIZE] [--forks N] --dir DIR")
}

/// Answers every command at once: the version command reads the host's version, which
/// its first step sets; every other command succeeds with no output.
final class InstantExecutor: RemoteExecutor {
    private let versions: Mutex<[String: String]>

    init(hosts: [Host], version: String) {
        versions = Mutex(Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, version) }))
    }

    func connect(_ host: Host) async throws -> ConnectionInfo {
        ConnectionInfo(
            serverBanner: "SSH-2.0-bench", hostKeyType: "ssh-ed25519", hostKeyFingerprint: "SHA256:bench",
            authenticatedWith: "none", setupDuration: .zero)
    }

    func run(_ command: RemoteCommand, on host: Host) async throws -> CommandResult {
        let script = command.script
        if script.hasPrefix("app version") {
            let v = versions.withLock { $0[host.name] ?? "" }
            return CommandResult(exitStatus: 0, stdout: CapturedOutput("Version: \(v)\n"))
        }
        if script.hasPrefix("set-version ") {
            let v = String(script.dropFirst("set-version ".count))
            versions.withLock { $0[host.name] = v }
        }
        return CommandResult(exitStatus: 0)
    }

    func upload(_ source: UploadSource, to remotePath: String, mode: Int, on host: Host) async throws {}

    func openTunnel(to targetHost: String, port: Int, on host: Host) async throws -> any RemoteTunnel {
        throw RemoteError(.channelFailed, host: host.name, "the bench executor has no tunnels")
    }

    func disconnect(_ host: Host) async {}
    func shutdown() async {}
}

func cpuSeconds() -> (Double, Int) {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    let cpu = Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    return (cpu, Int(u.ru_maxrss))
}

let fm = FileManager.default
try? fm.removeItem(atPath: options.dir)
try fm.createDirectory(atPath: options.dir, withIntermediateDirectories: true)

// The playbook, as an operator would write it: S steps (the first sets the version), P
// command probes, batches of `--batch`.
var yaml = """
    name: bench
    hosts: all
    version:
      detect: app version
      target: "1.1.0"
    releases: ["1.0.0", "1.1.0"]
    rolling:
      batch: ["\(options.batch)"]
      max_fail_percentage: 0
    steps:
      - name: step 1
        run: set-version {{ to }}

    """
for i in stride(from: 2, through: options.steps, by: 1) { yaml += "  - name: step \(i)\n    run: step \(i) {{ to }}\n" }
if options.probes > 0 {
    yaml += "health:\n"
    for i in 1...options.probes { yaml += "  - command: probe \(i)\n" }
}
let bookPath = options.dir + "/bench.yml"
try yaml.write(toFile: bookPath, atomically: true, encoding: .utf8)

let wallStart = ContinuousClock.now
let (cpuStart, _) = cpuSeconds()

let playbook = try PlaybookLoader.load(bookPath)
let hosts = (1...options.hosts).map { Host(name: String(format: "h%05d", $0), groups: ["all"]) }
let target = Version("1.1.0")!
let plan = RolloutPlanner.plan(
    playbook, stages: [StageHosts(name: "all", hosts: hosts)], target: target, versions: [:], versionSource: .detected)
let header = RunHeader(
    id: "20261207-000000-bench", user: "bench", machine: "bench", fleetupVersion: "bench", plan: plan,
    playbookFile: bookPath, inventories: ["bench"], forks: options.forks)
let setup = RunSetup(playbook: playbook, hosts: hosts, target: target, header: header)
let journalPath = options.dir + "/journal.jsonl"
let journal = GroupCommitJournal(try JournalWriter(path: journalPath))
let devNull = FileHandle(forWritingAtPath: "/dev/null")!
let progress = RunProgress.plain(header: header, out: devNull)
let coordinator = Coordinator(
    setup: setup, executor: InstantExecutor(hosts: hosts, version: "1.0.0"), clock: ContinuousClock(), sink: journal,
    display: progress, startedAt: .now)
let outcome = try await coordinator.run(opening: .runStarted(header))
progress.finish()
journal.close()
let (runCPU, runRSSKB) = cpuSeconds()
let written = try StoreFile.write(RunReports.files(coordinator.record), into: options.dir)

let wall = ContinuousClock.now - wallStart
let (cpuEnd, rssKB) = cpuSeconds()
let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
print(
    String(
        format:
            "hosts %d steps %d probes %d: outcome %@, wall %.2f s, cpu %.2f s (%.2f s in the reports), peak rss %.1f MB (%.1f MB before the reports), reports %d",
        options.hosts, options.steps, options.probes, outcome.rawValue, seconds, cpuEnd - cpuStart, cpuEnd - runCPU, Double(rssKB) / 1024,
        Double(runRSSKB) / 1024, written.count))
