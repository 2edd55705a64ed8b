import FleetCore
import FleetLocal
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

@testable import FleetSSH

/// Local users for the become tests: one whose sudo asks for a password, one NOPASSWD.
/// Creating users and sudoers rules needs root: CI runs as root; elsewhere these tests
/// are not run (they say so). On the loopback fleet on purpose: they log in as several
/// users of this machine and vary its sudo rules per test, while a namespaced host has
/// its own fixed users (NamespaceFleetTests covers `deploy`'s real sudo, with and without
/// a password, and the showcase runs' become and become_user).
enum BecomeUsers {
    static let asking = "fleetupbecome"
    static let trusted = "fleetupnopass"
    static let password = "p4ss w0rd ' \" $(echo x)"  // quoting-hostile on purpose

    static let ready: Bool = {
        guard geteuid() == 0, let sudo = LocalProcess.find("sudo"), !sudo.isEmpty else { return false }
        let useradd = LocalProcess.find("useradd")!, chpasswd = LocalProcess.find("chpasswd")!
        for user in [asking, trusted] where getpwnam(user) == nil {
            guard (try? LocalProcess.run(useradd, ["-m", "-s", "/bin/bash", user])) != nil else { return false }
        }
        let input = NSTemporaryDirectory() + "fleetup-chpasswd-\(getpid())"
        // Both get a password: sshd refuses accounts that are locked, as new ones are.
        try? LocalProcess.writeFile(input, Array("\(asking):\(password)\n\(trusted):\(UUID().uuidString)\n".utf8), mode: 0o600)
        defer { unlink(input) }
        guard (try? LocalProcess.run("/bin/sh", ["-c", "\(chpasswd) < \(input)"])) != nil else { return false }
        let rules = "\(asking) ALL=(ALL:ALL) ALL\n\(trusted) ALL=(ALL:ALL) NOPASSWD: ALL\n"
        return (try? LocalProcess.writeFile("/etc/sudoers.d/fleetup-tests", Array(rules.utf8), mode: 0o440)) != nil
    }()
}

@Suite(
    "become (sudo) against real sshd and a real sudo",
    .enabled(if: BecomeUsers.ready, "needs root (to create users and a sudoers rule) and sudo"))
struct BecomeTests {
    func withUserFleet(_ body: (TestFleet, SSHExecutor, FleetCore.Host, FleetCore.Host) async throws -> Void) async throws {
        try await withExecutor(
            {
                var s = FleetSpec(count: 1); s.extraUsers = [BecomeUsers.asking, BecomeUsers.trusted]; return s
            }()
        ) { fleet, executor in
            let asking = fleet.inventoryHosts[0].with(["ansible_user": .string(BecomeUsers.asking)])
            let trusted = fleet.inventoryHosts[0].with(["ansible_user": .string(BecomeUsers.trusted)]).renamed("trusted")
            try await body(fleet, executor, asking, trusted)
        }
    }

    let right = Become(user: "root", password: Secret(BecomeUsers.password))

    @Test("with the password, the command runs as root; stdin still reaches it; the password appears nowhere")
    func withPassword() async throws {
        try await withUserFleet { _, executor, asking, _ in
            let plain = try await executor.run(RemoteCommand("id -un"), on: asking)
            #expect(plain.stdout.text == "\(BecomeUsers.asking)\n")
            let r = try await executor.run(RemoteCommand("id -un; cat", stdin: Array("from stdin\n".utf8), become: right), on: asking)
            #expect(r.succeeded)
            #expect(r.stdout.text == "root\nfrom stdin\n")
            #expect(!(r.stdout.text + r.stderr.text).contains(BecomeUsers.password))
            #expect(!r.stderr.text.contains("fleetup-become"))
            let nobody = try await executor.run(
                RemoteCommand("id -un", become: Become(user: "nobody", password: right.password)), on: asking)
            #expect(nobody.stdout.text == "nobody\n")
        }
    }

    @Test("a wrong password, or none when sudo asks, is a clear failure of the host, not a hang")
    func wrongOrMissing() async throws {
        try await withUserFleet { _, executor, asking, _ in
            let wrong = await remoteError {
                _ = try await executor.run(RemoteCommand("id -un", become: Become(password: Secret("not it"))), on: asking)
            }
            #expect(wrong?.kind == .becomeFailed)
            #expect(wrong?.message.contains("sudo refused the become password") == true)
            let missing = await remoteError { _ = try await executor.run(RemoteCommand("id -un", become: Become()), on: asking) }
            #expect(missing?.kind == .becomeFailed)
            #expect(missing?.message.contains("--ask-become-pass") == true)
            // The connection is fine afterwards.
            let after = try await executor.run(RemoteCommand("echo still"), on: asking)
            #expect(after.stdout.text == "still\n")
        }
    }

    @Test("NOPASSWD sudo needs no password, and root's own sudo neither")
    func noPassword() async throws {
        try await withUserFleet { fleet, executor, _, trusted in
            let viaNopasswd = try await executor.run(RemoteCommand("id -un", become: Become()), on: trusted)
            #expect(viaNopasswd.stdout.text == "root\n")
            // root's own session: sudo works for root without a password, as it should.
            let root = fleet.inventoryHosts[0]
            let asNobody = try await executor.run(RemoteCommand("id -un", become: Become(user: "nobody")), on: root)
            #expect(asNobody.stdout.text == "nobody\n")
        }
    }

    @Test("a timeout ends a become command: its root-owned processes are killed through sudo")
    func timeoutKillsRootProcess() async throws {
        try await withUserFleet { fleet, executor, asking, _ in
            // Found by its name, not a pid file: on a busy machine the timeout may fire while
            // sudo is still starting the shell.
            let sleeper = Sleeper()
            let r = try await executor.run(
                RemoteCommand(sleeper.command, timeout: .seconds(1), become: right),
                on: asking)
            #expect(r.timedOut)
            let gone = try await eventually { LocalProcesses.running(commandLineContaining: sleeper.marker).isEmpty }
            #expect(gone, "\(sleeper.command) (root) still runs")
        }
    }

    @Test("fleetup exec -b: the password from FLEETUP_BECOME_PASSWORD, never printed; a wrong one fails the host")
    func execBecome() async throws {
        try await TestFleet.with(
            {
                var s = FleetSpec(count: 2); s.extraUsers = [BecomeUsers.asking]; return s
            }()
        ) { fleet in
            let inventory = fleet.directory + "/as-user.yml"
            let text = try String(contentsOfFile: fleet.inventoryPath, encoding: .utf8)
                .replacingOccurrences(of: "ansible_user: \"\(fleet.user)\"", with: "ansible_user: \"\(BecomeUsers.asking)\"")
            try text.write(toFile: inventory, atomically: true, encoding: .utf8)
            let fleetup = try TestFleet.builtProduct("fleetup")
            var env = ProcessInfo.processInfo.environment
            env["FLEETUP_BECOME_PASSWORD"] = BecomeUsers.password
            let args = ["exec", "-i", inventory, "--known-hosts", fleet.knownHosts, "-b", "--", "id -un"]
            let ok = try await TestFleet.runProgram(fleetup, args, environment: env)
            #expect(ok.status == 0)
            #expect(ok.stdout.hasPrefix("== host[01-02] (2): exit 0\nroot\n"))
            #expect(!(ok.stdout + ok.stderr).contains(BecomeUsers.password))
            env["FLEETUP_BECOME_PASSWORD"] = "wrong"
            let bad = try await TestFleet.runProgram(fleetup, args, environment: env)
            #expect(bad.status == 1)
            #expect(bad.stdout.contains("== host[01-02] (2): become-failed: sudo refused the become password"))
        }
    }
}
