import FleetCore
import FleetLocal
import Foundation
import Testing

@testable import FleetStore

/// A fresh folder for one test, removed after it.
func withFolder<T>(_ body: (String) async throws -> T) async throws -> T {
    let dir = NSTemporaryDirectory() + "fleetstore-test-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try await body(dir)
}

/// The permission bits of a file or folder.
func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// A pid that existed and is gone: a process started, waited for and reaped.
func reapedPid() throws -> Int32 {
    let p = try LocalProcess("/bin/true", [], environment: [:])
    _ = p.waitForExit()
    return p.pid
}

func owner(
    _ runID: String, machine: String = Posix.machineName, pid: Int32 = getpid(),
    startedAt: Date = Date(timeIntervalSince1970: 1_796_181_301)
) -> LockOwner {
    LockOwner(
        runID: runID, user: "alice", machine: machine, pid: pid, startedAt: startedAt,
        playbook: "playbooks/mattermost.yml", inventories: ["inventories/demo"],
        fleetKey: "0123456789abcdef", fleet: "playbooks/mattermost.yml + inventories/demo")
}

/// The error `body` threw as `E` (records an issue when it threw nothing or something else).
func thrown<E: Error>(_ type: E.Type, _ body: () async throws -> Void) async -> E? {
    do {
        try await body()
        Issue.record("expected \(E.self), but nothing was thrown")
    } catch let e as E {
        return e
    } catch {
        Issue.record("expected \(E.self), got \(error)")
    }
    return nil
}

/// A `RemoteExecutor` that runs each command with a local shell (/bin/sh, Debian's dash, by
/// default), HOME set to a folder of the test's: the lock scripts' behaviour, without sshd.
/// `path` is the commands' PATH; `down` makes every call fail as an unreachable host would.
final class LocalShellExecutor: RemoteExecutor {
    let home: String
    let down: Bool
    let shell: String
    let path: String

    init(home: String, down: Bool = false, shell: String = "/bin/sh", path: String = "/usr/bin:/bin") {
        self.home = home
        self.down = down
        self.shell = shell
        self.path = path
    }

    func run(_ command: RemoteCommand, on host: FleetCore.Host) async throws -> CommandResult {
        if down { throw RemoteError(.unreachable, host: host.name, "connection refused (127.0.0.1:1)") }
        // Waited for on a thread of its own, not the cooperative pool.
        let r = try await LocalProcess.result(of: shell, ["-c", command.script], environment: ["HOME": home, "PATH": path])
        return CommandResult(
            exitStatus: r.status ?? (128 + (r.signal ?? 0)), stdout: CapturedOutput(r.stdout), stderr: CapturedOutput(r.stderr))
    }

    func connect(_ host: FleetCore.Host) async throws -> ConnectionInfo {
        ConnectionInfo(
            serverBanner: "local", hostKeyType: "none", hostKeyFingerprint: "none",
            authenticatedWith: "none", setupDuration: .zero)
    }

    func upload(_ source: UploadSource, to remotePath: String, mode: Int, on host: FleetCore.Host) async throws {}

    func openTunnel(to targetHost: String, port: Int, on host: FleetCore.Host) async throws -> any RemoteTunnel {
        throw RemoteError(.channelFailed, host: host.name, "no tunnels here")
    }

    func disconnect(_ host: FleetCore.Host) async {}
    func shutdown() async {}
}
