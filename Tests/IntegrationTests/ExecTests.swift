import FleetCore
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Synchronization
import Testing

@Suite("exec over real sshd")
struct ExecTests {
    @Test("a command on 20 hosts: every host answers with its own name")
    func twentyHosts() async throws {
        try await withExecutor(FleetSpec(count: 20)) { fleet, executor in
            let results = try await withThrowingTaskGroup(of: (String, CommandResult).self) { group in
                for host in fleet.inventoryHosts {
                    group.addTask { (host.name, try await executor.run(RemoteCommand("echo $FLEET_HOST"), on: host)) }
                }
                return try await group.reduce(into: [String: CommandResult]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 20)
            for (name, result) in results {
                #expect(result.succeeded)
                #expect(result.stdout.text == name + "\n")
            }
        }
    }

    @Test("stdout and stderr stay separate; exit codes 0, 3, 127 are reported")
    func streamsAndExitCodes() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let mixed = try await executor.run(RemoteCommand("echo out1; echo err1 >&2; echo out2; echo err2 >&2"), on: host)
            #expect(mixed.stdout.text == "out1\nout2\n")
            #expect(mixed.stderr.text == "err1\nerr2\n")
            #expect(mixed.exitStatus == 0)

            let three = try await executor.run(RemoteCommand("exit 3"), on: host)
            #expect(three.exitStatus == 3)
            #expect(!three.succeeded)

            let missing = try await executor.run(RemoteCommand("no-such-command-here"), on: host)
            #expect(missing.exitStatus == 127)
            #expect(missing.stderr.text.contains("no-such-command-here"))
        }
    }

    @Test("a command killed by a signal reports the signal and no exit status")
    func killedBySignal() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let result = try await executor.run(RemoteCommand("kill -9 $$"), on: fleet.inventoryHosts[0])
            #expect(result.exitSignal == "KILL")
            #expect(result.exitStatus == nil)
            #expect(!result.succeeded)
        }
    }

    @Test("5 MB of stdout and 5 MB of stderr from one command are drained and counted")
    func bigOutput() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let script =
                "i=0; while [ $i -lt 5 ]; do head -c 1000000 /dev/zero | tr '\\0' o; "
                + "head -c 1000000 /dev/zero | tr '\\0' e >&2; i=$((i+1)); done; printf END; printf END2 >&2"
            let result = try await executor.run(RemoteCommand(script), on: fleet.inventoryHosts[0])
            #expect(result.succeeded)
            #expect(result.stdout.totalBytes == 5_000_003)
            #expect(result.stderr.totalBytes == 5_000_004)
            #expect(result.stdout.tail.count == RemoteCommand.defaultOutputLimit)
            #expect(result.stdout.isTruncated)
            #expect(result.stdout.text.hasSuffix("oooEND"))
            #expect(result.stderr.text.hasSuffix("eeeEND2"))
            #expect(!result.stdout.text.contains("e"))
        }
    }

    @Test("unicode in the command and in its output arrives intact")
    func unicode() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let text = "héllo wörld ✓ 日本語 🚀"
            let result = try await executor.run(RemoteCommand("printf '%s\\n' " + ShellQuote.quote(text)), on: fleet.inventoryHosts[0])
            #expect(result.stdout.text == text + "\n")
            #expect(result.stdout.totalBytes == text.utf8.count + 1)
        }
    }

    @Test("stdin is delivered and closed")
    func stdin() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let input = Array(String(repeating: "line\n", count: 20_000).utf8)
            let result = try await executor.run(RemoteCommand("wc -l", stdin: input), on: fleet.inventoryHosts[0])
            #expect(result.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines) == "20000")
        }
    }

    @Test("a timeout ends the command: timed-out outcome, and the remote process is gone")
    func timeout() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            // The sleeper is found by its name, not a pid file: on a busy machine the timeout
            // may fire before the shell wrote one.
            let sleeper = Sleeper()
            let result = try await executor.run(RemoteCommand(sleeper.command, timeout: .seconds(2)), on: host)
            #expect(result.timedOut)
            #expect(result.exitStatus == nil)
            // Gone or a zombie waiting for init: in both cases it no longer runs.
            let check = try await executor.run(
                RemoteCommand(sleeper.check), on: host)
            #expect(check.stdout.text == "stopped\n")
            // The connection is still usable after a timeout.
            let after = try await executor.run(RemoteCommand("echo ok"), on: host)
            #expect(after.stdout.text == "ok\n")
        }
    }

    @Test("a cancelled task interrupts its command and kills it on the host")
    func cancellation() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in try await expectCancellationKills(fleet, executor) }
    }

    @Test("one connection per host serves every command")
    func connectionReuse() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            var parents = Set<String>()
            for _ in 0..<5 {
                // $PPID is the sshd process serving the connection: one connection, one parent.
                parents.insert(try await executor.run(RemoteCommand("echo $PPID"), on: host).stdout.text)
            }
            #expect(parents.count == 1)
            #expect(parents.first?.isEmpty == false)
        }
    }

    @Test("the command runs as the session's own process: no extra fork per command")
    func noExtraProcess() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            // bash runs the last simple command in place: $$ is then ps itself.
            let r = try await executor.run(RemoteCommand("ps -o comm= -p $$"), on: fleet.inventoryHosts[0])
            #expect(r.stdout.text == "ps\n")
        }
    }

    @Test("many commands at once on one connection")
    func concurrentChannels() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let outputs = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<9 { group.addTask { try await executor.run(RemoteCommand("sleep 0.2; echo \(i)"), on: host).stdout.text } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(outputs == Set((0..<9).map { "\($0)\n" }))
        }
    }

    @Test("a closed port is unreachable, and the other hosts finish first")
    func refusedHostDoesNotStallOthers() async throws {
        try await withExecutor(FleetSpec(count: 3)) { fleet, executor in
            let closed = fleet.inventoryHosts[0].with(["ansible_port": .int(1)]).renamed("closed")
            let order = Recorder<String>()
            let results = await withTaskGroup(of: (String, Result<CommandResult, Error>).self) { group in
                for host in fleet.inventoryHosts + [closed] {
                    group.addTask {
                        let r = await Result(catching: { try await executor.run(RemoteCommand("true"), on: host) })
                        order.append(host.name)
                        return (host.name, r)
                    }
                }
                return await group.reduce(into: [String: Result<CommandResult, Error>]()) { $0[$1.0] = $1.1 }
            }
            guard case .failure(let error as RemoteError) = results["closed"] else {
                Issue.record("the closed port did not fail with a RemoteError")
                return
            }
            #expect(error.kind == .unreachable)
            #expect(error.message.contains("connection refused"))
            #expect(error.message.contains("attempts"))
            #expect(order.all.last == "closed")
            for host in fleet.inventoryHosts {
                if case .success(let r) = results[host.name] { #expect(r.succeeded) } else { Issue.record("\(host.name) failed") }
            }
        }
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension FleetCore.Host {
    func renamed(_ name: String) -> FleetCore.Host {
        var copy = self
        copy.name = name
        return copy
    }
}
