import FleetCore
@testable import FleetStore
import Foundation
import Testing

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
    try spawnAndWait("/bin/true", [], environment: [:]).pid
}

/// Runs a program to its end: posix_spawn and waitpid, stdin /dev/null, stdout and stderr
/// through files. Not Foundation's Process: its waitUntilExit sometimes never saw the child
/// exit (the child stayed an unreaped zombie, likely a lost SIGCHLD while Process sets up
/// its monitoring on first use), and two such waits from async tests held both threads of a
/// 2-core machine's cooperative pool: the whole test process hung.
func spawnAndWait(_ path: String, _ arguments: [String],
                  environment: [String: String]) throws -> (pid: pid_t, status: Int32, stdout: String, stderr: String) {
    let base = NSTemporaryDirectory() + "fleetstore-proc-\(getpid())-\(UUID().uuidString.prefix(8))"
    defer { unlink(base + ".out"); unlink(base + ".err") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
    let argv = cStrings([path] + arguments)
    let envp = cStrings(environment.map { "\($0.key)=\($0.value)" })
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    return (pid, status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), out, err)
}

func owner(_ runID: String, machine: String = Posix.machineName, pid: Int32 = getpid(),
           startedAt: Date = Date(timeIntervalSince1970: 1_796_181_301)) -> LockOwner {
    LockOwner(runID: runID, user: "alice", machine: machine, pid: pid, startedAt: startedAt,
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

/// A `RemoteExecutor` that runs each command with the local /bin/sh, HOME set to a folder of
/// the test's: the lock scripts' behaviour, without sshd. `down` makes every call fail as an
/// unreachable host would.
final class LocalShellExecutor: RemoteExecutor {
    let home: String
    let down: Bool

    init(home: String, down: Bool = false) {
        self.home = home
        self.down = down
    }

    func run(_ command: RemoteCommand, on host: FleetCore.Host) async throws -> CommandResult {
        if down { throw RemoteError(.unreachable, host: host.name, "connection refused (127.0.0.1:1)") }
        let home = self.home
        return try await withCheckedThrowingContinuation { continuation in
            // Waiting for the child blocks: on a thread of its own, not the cooperative pool.
            Thread {
                do {
                    let r = try spawnAndWait("/bin/sh", ["-c", command.script], environment: ["HOME": home, "PATH": "/usr/bin:/bin"])
                    continuation.resume(returning: CommandResult(
                        exitStatus: r.status, stdout: CapturedOutput(r.stdout), stderr: CapturedOutput(r.stderr)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    func connect(_ host: FleetCore.Host) async throws -> ConnectionInfo {
        ConnectionInfo(serverBanner: "local", hostKeyType: "none", hostKeyFingerprint: "none",
                       authenticatedWith: "none", setupDuration: .zero)
    }

    func upload(_ source: UploadSource, to remotePath: String, mode: Int, on host: FleetCore.Host) async throws {}

    func openTunnel(to targetHost: String, port: Int, on host: FleetCore.Host) async throws -> any RemoteTunnel {
        throw RemoteError(.channelFailed, host: host.name, "no tunnels here")
    }

    func disconnect(_ host: FleetCore.Host) async {}
    func shutdown() async {}
}
