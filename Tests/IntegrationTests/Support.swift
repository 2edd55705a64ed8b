import FleetCore
import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Synchronization
import Testing

/// Runs `body` with a fleet and an executor that trusts it; shuts both down after.
func withExecutor<T: Sendable>(
    _ spec: FleetSpec, policy: HostKeyPolicy = .strict,
    configure: (inout SSHConfiguration) -> Void = { _ in },
    _ body: (TestFleet, SSHExecutor) async throws -> T
) async throws -> T {
    try await TestFleet.with(spec) { fleet in
        var configuration = fleet.sshConfiguration(policy: policy)
        configure(&configuration)
        let executor = try SSHExecutor(configuration)
        do {
            let result = try await body(fleet, executor)
            await executor.shutdown()
            return result
        } catch {
            await executor.shutdown()
            throw error
        }
    }
}

/// The error a call threw, as a RemoteError (fails the test when it threw something else
/// or nothing).
func remoteError(_ body: () async throws -> Void) async -> RemoteError? {
    do {
        try await body()
        Issue.record("expected a RemoteError, but the call succeeded")
        return nil
    } catch let e as RemoteError {
        return e
    } catch {
        Issue.record("expected a RemoteError, got \(error)")
        return nil
    }
}

extension FleetCore.Host {
    /// The same host with some variables replaced.
    func with(_ changes: [String: VarValue]) -> FleetCore.Host {
        var copy = self
        for (k, v) in changes { copy.vars[k] = v }
        return copy
    }
}

/// Records events from concurrent tasks, in the order they happen.
final class Recorder<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
}

/// Waits until `condition` holds — an event another process makes visible (a remote
/// command wrote its pid, a journal holds a line, a connection was noticed closed), which
/// offers nothing to await — checking every 10 ms; returns whether it held. There is no
/// window of time in it: a busy machine makes the wait longer, never the test fail. `within`
/// only keeps a broken test from hanging the suite (5 minutes by default), and `unless`
/// ends the wait at once when the test can see the event will never come (the command it
/// waits on has ended).
func eventually(
    within limit: Duration = .seconds(300), unless gone: () async throws -> Bool = { false },
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        if try await gone() { return try await condition() }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// A sleeper unique to one test, found by its command line whether or not it had time to
/// write its pid: `sleep 600 0.000…` (GNU sleep adds its arguments up; dash, which become
/// commands run in, has no `exec -a`).
struct Sleeper {
    /// The command line's unique part: a tiny extra duration with this process's pid in it.
    let marker = "0.000\(getpid())\(UInt32.random(in: 100_000...999_999))"
    var command: String { "exec sleep 600 \(marker)" }
    /// Prints `running` while a process with the marker in its command line runs on the
    /// host, `stopped` once none does (gone, or a zombie waiting for init).
    var check: String { "ps -eo stat=,args= | grep -v grep | grep -F \(marker) | grep -qv '^Z' && echo running || echo stopped" }
}

/// A command on the fleet's first host that writes its pid, then sleeps: once it runs, its
/// task is cancelled; the call must fail `cancelled` and the process be gone from the host.
func expectCancellationKills(_ fleet: TestFleet, _ executor: SSHExecutor) async throws {
    let host = fleet.inventoryHosts[0]
    let task = Task {
        try await executor.run(RemoteCommand("echo $$ > $HOME/cancel.pid; echo started; exec sleep 600"), on: host)
    }
    // Wait until the command really runs (its pid file exists), then cancel.
    let started = try await eventually(unless: { task.isCancelled }) { hasLine(fleet.hosts[0].root + "/home/cancel.pid") }
    #expect(started)
    task.cancel()
    let error = await remoteError { _ = try await task.value }
    #expect(error?.kind == .cancelled)
    let check = try await executor.run(
        RemoteCommand("ps -o stat= -p $(cat $HOME/cancel.pid) | grep -qv Z && echo running || echo stopped"), on: host)
    #expect(check.stdout.text == "stopped\n")
}

/// True once `path` holds a complete line (a remote command wrote its pid there).
func hasLine(_ path: String) -> Bool {
    (try? String(contentsOfFile: path, encoding: .utf8))?.hasSuffix("\n") == true
}

/// An ssh-agent of a test's own, in the fleet's folder; `ssh-add` runs against it.
struct TestAgent {
    let socket: String
    let pid: pid_t

    init(in fleet: TestFleet) throws {
        socket = fleet.directory + "/agent.sock"
        let out = try LocalProcess.run(LocalProcess.find("ssh-agent")!, ["-s", "-a", socket])
        pid = pid_t(out.components(separatedBy: "SSH_AGENT_PID=")[1].prefix { $0.isNumber })!
    }

    /// `ssh-add ARGS` with this agent (`[key]` adds, `["-d", pub]` removes, `["-D"]` empties).
    func add(_ args: [String]) throws {
        var env = ProcessInfo.processInfo.environment
        env["SSH_AUTH_SOCK"] = socket
        try LocalProcess.run(LocalProcess.find("ssh-add")!, ["-q"] + args, environment: env)
    }

    func stop() { kill(pid, SIGTERM) }
}
