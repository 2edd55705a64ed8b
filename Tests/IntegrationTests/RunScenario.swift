import FleetCore
import FleetLocal
import FleetSSH
import FleetStore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// One scenario of `fleetup run` as a user runs it: the BUILT binary, a showcase playbook
/// (a copy in the fleet's folder, identical but for the edits the scenario names), the
/// fleet's inventory layered with the demo one (and an overlay), the fleet's known_hosts,
/// and a state folder of the fleet's own, so scenarios run side by side.
struct RunScenario {
    let fleet: TestFleet
    /// The playbook copy.
    let playbook: String
    /// `-i` in order: the fleet's, the demo's, the overlay.
    let inventories: [String]
    /// The state folder: the fleet's own unless a scenario puts it elsewhere (a small disk).
    var stateRoot: String?
    /// Variables for fleetup besides this process's own (FLEETUP_JOURNAL_RESERVE).
    var environment: [String: String] = [:]
    var stateDir: String { stateRoot ?? fleet.directory + "/state" }
    var store: RunStore { RunStore(root: stateDir) }

    /// An exact edit of a showcase playbook's text: `old` must occur exactly once.
    struct Edit: Sendable {
        var old: String
        var new: String
        var why: String

        /// No pause between batches (the showcase pauses 30 s / 10 s).
        static func noPause(_ was: String) -> Edit { Edit(old: "pause: \(was)", new: "pause: 0s", why: "pause \(was) -> 0s") }
        /// Another failure threshold (the showcase says 0: any failure halts).
        static func maxFailPercentage(_ from: Int, _ to: Int) -> Edit {
            Edit(old: "max_fail_percentage: \(from) ", new: "max_fail_percentage: \(to) ", why: "max_fail_percentage \(from) -> \(to)")
        }
        /// One more step before the playbook's own first step.
        static func firstStep(_ yaml: String, _ name: String) -> Edit {
            Edit(old: "\nsteps:\n", new: "\nsteps:\n" + yaml, why: "a first step \"\(name)\"")
        }

        /// A step that holds while the host's `control/hold` exists (the test creates and
        /// removes it), after writing its shell's pid to `run/hold.pid`, and writes
        /// `run/hold.done` when it was let go (a killed one never does); it passes at once
        /// on a host without the file.
        static let hold = firstStep(holdStep, "hold (test)")

        /// The hold step after the playbook text `text` (which ends with a newline).
        static func hold(after text: String, _ why: String) -> Edit {
            Edit(old: text, new: text + holdStep, why: "a step \"hold (test)\" \(why)")
        }

        static let holdStep = """
              - name: hold (test)
                run: if [ -e {{ host_root }}/control/hold ]; then echo $$ > {{ host_root }}/run/hold.pid; while [ -e {{ host_root }}/control/hold ]; do sleep 0.05; done; echo $$ > {{ host_root }}/run/hold.done; fi

            """
    }

    static let mattermostReleases = FakeReleases.mattermostVersions

    /// The smallest Mattermost fleet with two stages: staging01 and prod01 on 5.2.0, apps up.
    static let twoHosts = FleetSpec(
        groups: [.init("staging", 1), .init("prod", 1)], layout: .mattermost, versions: ["5.2.0"], startApps: true)

    /// playbooks/mattermost.yml with `pause: 0s` and `edits`, the demo inventory, and an
    /// overlay that sets `release_dir` to the fleet's archives (`hostVars`: per host, e.g. a
    /// folder with a corrupted archive for one host).
    static func mattermost(
        _ fleet: TestFleet, edits: [Edit] = [],
        hostVars: [String: [String: String]] = [:]
    ) async throws -> RunScenario {
        let book = try copy("mattermost", into: fleet, edits: [.noPause("30s")] + edits)
        // tar and gzip are waited for on a thread of their own, not the cooperative pool.
        let releases = try await Blocking.run("scenario-releases") { try fleet.buildMattermostReleases() }
        let overlay = try writeOverlay(in: fleet, vars: ["release_dir": releases], hostVars: hostVars)
        return RunScenario(
            fleet: fleet, playbook: book,
            inventories: [fleet.inventoryPath, PlanCommandTests.root + "/inventories/demo/mattermost.yml", overlay])
    }

    /// playbooks/flow.yml with `pause: 0s`, `gate: soak 0s` (still a health re-check of
    /// staging, without the 5 minutes) and `edits`, with the demo inventory.
    static func flow(_ fleet: TestFleet, edits: [Edit] = []) throws -> RunScenario {
        let soak = Edit(old: "gate: soak 5m ", new: "gate: soak 0s ", why: "gate soak 5m -> soak 0s")
        let book = try copy("flow", into: fleet, edits: [.noPause("10s"), soak] + edits)
        let overlay = try writeOverlay(in: fleet, vars: [:], hostVars: [:])
        return RunScenario(
            fleet: fleet, playbook: book,
            inventories: [fleet.inventoryPath, PlanCommandTests.root + "/inventories/demo/flow.yml", overlay])
    }

    /// Writes playbooks/NAME.yml into the fleet's folder with the edits (each must match
    /// exactly once: a showcase change that moves the text fails the scenario loudly),
    /// otherwise byte for byte the same, with a first line saying what differs.
    static func copy(_ name: String, into fleet: TestFleet, edits: [Edit]) throws -> String {
        var text = try String(contentsOfFile: "\(PlanCommandTests.root)/playbooks/\(name).yml", encoding: .utf8)
        for e in edits {
            let parts = text.components(separatedBy: e.old)
            guard parts.count == 2 else {
                throw ScenarioError("playbooks/\(name).yml: \"\(e.old)\" occurs \(parts.count - 1) times, expected once")
            }
            text = parts.joined(separator: e.new)
        }
        let path = "\(fleet.directory)/\(name)-scenario.yml"
        let header = "# A test's copy of playbooks/\(name).yml, identical but for: \(edits.map(\.why).joined(separator: "; ")).\n"
        try (header + text).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An inventory setting `vars` on all hosts and `hostVars` on some, layered last. On
    /// namespaced hosts it also names each host's folder of the fleet (`host_root`, which a
    /// loopback fleet's inventory gives): scenarios' own steps keep their markers there.
    static func writeOverlay(in fleet: TestFleet, vars: [String: String], hostVars: [String: [String: String]]) throws -> String {
        var hostVars = hostVars
        for host in fleet.hosts where host.netns != nil { hostVars[host.name, default: [:]]["host_root"] = host.root }
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var out = "all:\n" + (vars.isEmpty ? "" : "  vars:\n")
        for k in vars.keys.sorted() { out += "    \(k): \(q(vars[k]!))\n" }
        if !hostVars.isEmpty {
            out += "  hosts:\n"
            for h in hostVars.keys.sorted() {
                out += "    \(h):\n"
                for (k, v) in hostVars[h]!.sorted(by: { $0.key < $1.key }) { out += "      \(k): \(q(v))\n" }
            }
        }
        let path = fleet.directory + "/scenario-overlay.yml"
        try out.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: running fleetup

    static var binary: String { get throws { try TestFleet.builtProduct("fleetup") } }

    var runArguments: [String] {
        ["run", playbook] + inventories.flatMap { ["-i", $0] } + ["--known-hosts", fleet.knownHosts, "--state-dir", stateDir]
    }

    private var processEnvironment: [String: String]? {
        environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }

    /// `fleetup run …` to its end.
    func run(_ extra: [String] = ["--yes"]) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(try Self.binary, runArguments + extra, environment: processEnvironment)
    }

    /// `fleetup run …` started, not waited for.
    func start(_ extra: [String] = ["--yes"]) throws -> LocalProcess {
        try LocalProcess(try Self.binary, runArguments + extra, environment: processEnvironment)
    }

    /// `fleetup resume [args…]` (the connection flags given again, as the journal keeps none).
    func resume(_ args: [String]) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(
            try Self.binary, ["resume"] + args + ["--known-hosts", fleet.knownHosts, "--state-dir", stateDir],
            environment: processEnvironment)
    }

    /// `fleetup plan` of the scenario's playbook and inventories, with its state folder.
    func plan() async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(
            try Self.binary, ["plan", playbook] + inventories.flatMap { ["-i", $0] } + ["--state-dir", stateDir],
            environment: processEnvironment)
    }

    /// `fleetup lock status` of the scenario's playbook and inventories.
    func lockStatus() async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(
            try Self.binary,
            ["lock", "status", playbook] + inventories.flatMap { ["-i", $0] } + [
                "--known-hosts", fleet.knownHosts, "--state-dir", stateDir,
            ],
            environment: processEnvironment)
    }

    /// The batches `fleetup plan --json` prints for the same playbook and inventories.
    func plannedBatches() async throws -> [Batch] {
        let r = try await TestFleet.runProgram(try Self.binary, ["plan", playbook, "--json"] + inventories.flatMap { ["-i", $0] })
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "plan: \(r.stderr)")
        let stages = try #require(doc["stages"] as? [[String: Any]])
        return try stages.flatMap { stage in
            let name = try #require(stage["name"] as? String)
            return try #require(stage["batches"] as? [[String: Any]]).map {
                Batch(stage: name, number: try #require($0["number"] as? Int), hosts: try #require($0["hosts"] as? [String]))
            }
        }
    }

    struct Batch: Hashable, CustomStringConvertible {
        var stage: String
        var number: Int
        var hosts: [String]
        var description: String { "\(stage) \(number): \(hosts.joined(separator: ","))" }
    }

    // MARK: the journal

    /// The newest run that has a journal (nil before one exists).
    func latestRun() throws -> RunFolder? {
        try store.list().first { FileManager.default.fileExists(atPath: $0.journal) }
    }

    /// The journal's entries (torn tail dropped, as resume reads it); none before it exists.
    func entries(of run: RunFolder? = nil) throws -> [JournalEntry] {
        guard let run = try run ?? latestRun() else { return [] }
        return try JournalReader.read(run.journal, as: JournalEntry.self).entries
    }

    /// The run's record, folded from its journal alone.
    func record(of run: RunFolder? = nil) throws -> RunRecord {
        try RunRecord(entries: try entries(of: run))
    }

    // MARK: holding a host mid-step (with Edit.hold)

    func hold(_ host: FleetHost) throws {
        try Data().write(to: URL(fileURLWithPath: host.controlDir + "/hold"))
    }

    func letGo(_ host: FleetHost) throws {
        try FileManager.default.removeItem(atPath: host.controlDir + "/hold")
    }

    /// The pid of the held step's shell, once it holds.
    func holdingPid(_ host: FleetHost) -> pid_t? {
        let path = host.root + "/run/hold.pid"
        guard hasLine(path) else { return nil }
        return pid_t((try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
    }

    /// Whether the held step ended because it was let go (not killed).
    func holdEnded(_ host: FleetHost) -> Bool {
        hasLine(host.root + "/run/hold.done")
    }

    // MARK: what the hosts show

    /// Stops a host's sshd and everything it started (waited for off the cooperative pool).
    func stopSSH(_ host: FleetHost) async throws {
        let fleet = self.fleet
        try await Blocking.run("scenario-stop-ssh") { fleet.stopSSH(on: host) }
    }

    /// An HTTP GET of the host's app on 127.0.0.1 (its health endpoint), on a thread of its
    /// own; a namespaced host's own 127.0.0.1 is asked from inside its network namespace.
    func get(_ host: FleetHost, _ path: String) async throws -> (status: Int, body: String) {
        let port = host.appPort
        guard let netns = host.netns else { return try await Blocking.run("scenario-http") { try httpGet(port: port, path: path) } }
        let script = "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' \"$2\" >&3 && cat <&3"
        let r = try await TestFleet.runProgram(
            LocalProcess.find("ip") ?? "/usr/sbin/ip", ["netns", "exec", netns, "/bin/bash", "-c", script, "get", String(port), path])
        guard r.status == 0 else { throw ScenarioError("GET 127.0.0.1:\(port)\(path) in \(netns): \(r.stderr)") }
        return httpParse(r.stdout)
    }

    /// Every starting version by host name, as FleetSpec hands them out (in turn).
    static func versions(_ spec: FleetSpec, _ fleet: TestFleet) -> [String: String] {
        Dictionary(uniqueKeysWithValues: fleet.hosts.enumerated().map { ($1.name, spec.versions[$0 % spec.versions.count]) })
    }

    /// The Mattermost releases after `version`, up to the target.
    static func hops(from version: String, to target: String = "5.3.0") -> [String] {
        let all = mattermostReleases
        guard let a = all.firstIndex(of: version), let b = all.firstIndex(of: target), a < b else { return [] }
        return Array(all[(a + 1)...b])
    }

    /// What the record says and what each Mattermost host shows agree: as many successful
    /// `systemctl stop/start mattermost` steps in its journal as lines in its services.log;
    /// an upgraded host runs the version the record names, a rolled-back one its old one,
    /// a host that never started is untouched (no steps, empty log, its first version).
    func expectJournalAgreesWithHosts(
        _ record: RunRecord, initial: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for h in record.hosts {
            let host = try #require(fleet.hosts.first { $0.name == h.host }, sourceLocation: sourceLocation)
            let log = fleet.serviceLog(of: host)
            for action in ["stop", "start"] {
                let ran = h.steps.filter { $0.succeeded && $0.step.command == "systemctl \(action) mattermost" }.count
                #expect(
                    log.filter { $0 == "\(action) mattermost" }.count == ran,
                    "\(h.host): \(ran) \(action) steps in the journal, services.log: \(log)", sourceLocation: sourceLocation)
            }
            let installed = try fleet.installedVersion(of: host)
            switch h.outcome {
            case .upgraded?, .alreadyCurrent?:
                #expect(installed == h.result?.versionAfter, "\(h.host)", sourceLocation: sourceLocation)
            case .rolledBack?:
                #expect(installed == h.result?.versionBefore, "\(h.host)", sourceLocation: sourceLocation)
            case .skippedAfterHalt?, nil:
                #expect(
                    h.steps.isEmpty && log.isEmpty && installed == initial[h.host], "\(h.host) was touched: \(log)",
                    sourceLocation: sourceLocation)
            case .failed?, .unreachable?, .interrupted?:
                break
            }
        }
    }
}

struct ScenarioError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A blocking HTTP/1.0 GET of 127.0.0.1:port (the fake app answers and closes).
func httpGet(port: Int, path: String) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ScenarioError("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw ScenarioError("connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return httpParse(String(decoding: bytes, as: UTF8.self))
}

/// An HTTP/1.0 answer's status and body.
func httpParse(_ text: String) -> (status: Int, body: String) {
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (status, body)
}

/// Local processes through /proc: the fleet's hosts are processes of this machine.
enum LocalProcesses {
    /// Running (not gone, not a zombie).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// The process's arguments joined by spaces ("" when it is gone).
    static func commandLine(_ pid: pid_t) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Whether `pid` runs and is still the process we mean (a pid may be reused once it is gone).
    static func isRunning(_ pid: pid_t, commandLineContaining text: String) -> Bool {
        isRunning(pid) && commandLine(pid).contains(text)
    }

    /// Running processes whose command line contains `text`.
    static func running(commandLineContaining text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { isRunning($0, commandLineContaining: text) }
    }
}

/// A file's lines ([] when it is missing).
enum TestFleetLines {
    static func read(_ path: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
// MARK: reading events

extension RunEvent {
    var batchStarted: RunScenario.Batch? {
        if case .batchStarted(let s, let b, let h) = self { return RunScenario.Batch(stage: s, number: b, hosts: h) }
        return nil
    }
    var hostStarted: (host: String, recheck: Bool)? {
        if case .hostStarted(let h, let r, _) = self { return (h, r) }
        return nil
    }
    var hostFinished: (host: String, result: HostResult)? {
        if case .hostFinished(let h, let r) = self { return (h, r) }
        return nil
    }
    var hopStarted: (host: String, from: String, to: String)? {
        if case .hopStarted(let h, let f, let t) = self { return (h, f, t) }
        return nil
    }
    var stepStarted: (host: String, step: StepRef)? {
        if case .stepStarted(let h, let s) = self { return (h, s) }
        return nil
    }
    var stageStarted: String? {
        if case .stageStarted(let s) = self { return s }
        return nil
    }
    var skipped: [String]? {
        if case .hostsSkipped(let h, _) = self { return h }
        return nil
    }
}

extension [JournalEntry] {
    var events: [RunEvent] { map(\.event) }

    /// The hops a host started, in order (`from -> to`).
    func hops(of host: String) -> [String] {
        compactMap { $0.event.hopStarted }.filter { $0.host == host }.map { "\($0.from) -> \($0.to)" }
    }

    /// Hosts that started at all.
    var startedHosts: Set<String> { Set(compactMap { $0.event.hostStarted?.host }) }

    /// Whether any entry's event matches.
    func has(_ match: (RunEvent) -> Bool) -> Bool { contains { match($0.event) } }
}
