import Foundation

// fleet-fuzz: a fuzzing campaign against the built fleetup binary (scripts/fuzz runs it).
// Structure-aware mutations of the inventories, the conformance corpus, the playbooks and
// real journals, and edge values for every flag of every subcommand; each case runs under
// an address-space cap and a timeout (a case past it runs once more with six times the
// time: a busy machine makes cases slow, not stuck). A signal, a timeout, the memory cap, a silent failure
// or a message leaking Swift internals is a finding, saved with a replay script. It stops
// once no new finding has come for --quiet minutes (or after --max minutes).
//
// Only commands that cannot connect get mutated inventories; the others get one inventory
// of 127.0.0.1 on a closed port, and scripts/fuzz runs the whole campaign in a network
// namespace of its own, where nothing but its own loopback exists.

struct Options {
    var fleetup = ""
    var root = FileManager.default.currentDirectoryPath
    var work = NSTemporaryDirectory() + "fleet-fuzz"
    var quietMinutes = 60.0
    var maxMinutes = 0.0
    var jobs = 2
    var memoryMB = 2048
    var timeout = 10.0
    var seed = UInt64(Date().timeIntervalSince1970)
    var seedState: String?
    /// Logs every case: its command and the first line of what it said.
    var verbose = false

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var i = 0
        func value() -> String { i += 1; guard i < args.count else { fail("\(args[i - 1]) needs a value") }; return args[i] }
        while i < args.count {
            switch args[i] {
            case "--fleetup": o.fleetup = value()
            case "--root": o.root = value()
            case "--work": o.work = value()
            case "--quiet": o.quietMinutes = Double(value()) ?? 60
            case "--max": o.maxMinutes = Double(value()) ?? 0
            case "--jobs": o.jobs = max(1, Int(value()) ?? 2)
            case "--memory-mb": o.memoryMB = Int(value()) ?? 2048
            case "--timeout": o.timeout = Double(value()) ?? 10
            case "--seed": o.seed = UInt64(value()) ?? 1
            case "--seed-state": o.seedState = value()
            case "--verbose": o.verbose = true
            default: fail("unknown option \(args[i]) (see scripts/fuzz)")
            }
            i += 1
        }
        if o.fleetup.isEmpty { fail("give --fleetup PATH") }
        return o
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fleet-fuzz: \(message)\n".utf8))
    exit(2)
}

func log(_ message: String) {
    let stamp = ISO8601DateFormatter().string(from: Date())
    FileHandle.standardOutput.write(Data("[\(stamp)] \(message)\n".utf8))
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let fm = FileManager.default
try? fm.createDirectory(atPath: options.work + "/cases", withIntermediateDirectories: true)
let findingsDir = options.work + "/findings"
try? fm.createDirectory(atPath: findingsDir, withIntermediateDirectories: true)

// The safe inventory: every host 127.0.0.1, port 1 (closed), in the showcase playbooks' groups.
let safeInventory = options.work + "/safe.ini"
_ = fm.createFile(
    atPath: safeInventory,
    contents: Data(
        """
        [mattermost:children]
        staging
        prod
        [flow:children]
        staging
        prod
        [staging]
        h1 ansible_host=127.0.0.1 ansible_port=1 ansible_user=fuzz
        [prod]
        h[2:3] ansible_host=127.0.0.1 ansible_port=1 ansible_user=fuzz

        """.utf8))

let seedState = makeSeedState(options, safeInventory: safeInventory)
let seeds = loadSeeds(root: options.root, state: seedState)
log("seeds: \(seeds.inventories.count) inventories, \(seeds.playbooks.count) playbooks, \(seeds.journals.count) journals and run records")

let runner = Runner(fleetup: options.fleetup, memoryKB: options.memoryMB * 1024, timeout: options.timeout)
let tally = Tally()
let started = Date()
let done = NSLock()
nonisolated(unsafe) var stopping = false

signal(SIGINT) { _ in stopping = true }
signal(SIGTERM) { _ in stopping = true }

func worker(_ n: Int) {
    var maker = CaseMaker(
        seeds: seeds, safeInventory: safeInventory, seedState: seedState,
        rng: Rng(state: options.seed &+ UInt64(n) &* 0x1000_0000))
    var count = 0
    while !stopping {
        count += 1
        let dir = options.work + "/cases/w\(n)-\(count)"
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let c = maker.make(in: dir)
        let env = [
            "PATH": "/usr/bin:/bin", "HOME": dir, "LANG": "C.UTF-8", "SWIFT_BACKTRACE": "enable=no",
            "FLEETUP_STATE_DIR": dir + "/state", "FUZZ_MEMORY_KB": "\(options.memoryMB * 1024)",
        ]
        let connects = !["inventory", "check", "plan", "runs", "report", "approve"].contains(c.family)
        let limit = connects ? options.timeout * 3 : options.timeout
        var outcome = runner.run(c.args, in: dir, env: env, timeout: limit)
        var slow: Double?
        if outcome.timedOut {
            // Past its timeout on a busy machine a case may be slow, not stuck: it runs once
            // more with six times the time, and only one that still does not end is a finding.
            let start = Date()
            let again = runner.run(c.args, in: dir, env: env, timeout: limit * 6)
            if !again.timedOut {
                slow = Date().timeIntervalSince(start)
                outcome = again
            }
        }
        if let slow { log("slow (\(Int(slow)) s when run again): \(c.args.joined(separator: " ").prefix(300))") }
        let kind = Runner.classify(outcome)
        let signature = kind.map { Findings.signature($0, c.family, outcome.stderr, caseDir: dir) } ?? ""
        let ending =
            outcome.timedOut ? "timeout" : slow != nil ? "slow" : outcome.signal.map { "signal \($0)" } ?? "exit \(outcome.status ?? -1)"
        let new = tally.record(family: c.family, cpu: outcome.cpu, ending: ending, finding: kind, signature: signature) {
            Findings.save(dir, to: findingsDir, args: c.args, env: env, outcome: outcome, kind: kind ?? "", safeInventory: safeInventory)
        }
        if new { log("NEW \(signature)") }
        if options.verbose {
            let said = outcome.stderr.split(separator: "\n").first { !$0.contains("warning:") } ?? ""
            log("\(ending) \(c.args.joined(separator: " ").prefix(300)) => \(said.prefix(200))")
        }
        try? fm.removeItem(atPath: dir)
    }
}

let threads = (0..<options.jobs).map { n in Thread { worker(n) } }
for t in threads { t.stackSize = 1 << 22; t.start() }

var lastReport = Date()
while !stopping {
    sleep(5)
    let (cases, quiet) = tally.snapshot { ($0.cases, Date().timeIntervalSince($0.lastNew)) }
    if Date().timeIntervalSince(lastReport) >= 300 {
        log("\(cases) cases, \(tally.snapshot { $0.signatures.count }) distinct findings, quiet for \(Int(quiet / 60)) min")
        lastReport = Date()
    }
    if quiet >= options.quietMinutes * 60 { log("no new finding for \(Int(options.quietMinutes)) minutes: done"); stopping = true }
    if options.maxMinutes > 0 && Date().timeIntervalSince(started) >= options.maxMinutes * 60 { log("time is up"); stopping = true }
}
// Let the workers finish their case.
sleep(UInt32(options.timeout * 3) + 2)
printSummary(tally, started: started, options: options)
