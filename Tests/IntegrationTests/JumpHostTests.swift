import FleetCore
import FleetLocal
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

@testable import FleetSSH

/// Hosts reached only through jump hosts (ProxyJump), over real sshd.
/// On the loopback fleet on purpose: these tests tell whose socket carries a connection
/// (this process's or a bastion sshd's) from `ss` on the machine's own 127.0.0.1, and chain
/// hops freely between hosts, which needs every host reachable from the machine. A real
/// bastion in front of hosts the machine cannot reach is NamespaceFleetTests' "a group behind a bastion".
@Suite("jump hosts")
struct JumpHostTests {
    /// The fleet's own settings of a host, as a jump hop.
    func hop(_ fleet: TestFleet, _ i: Int) -> ConnectionSettings { fleet.inventoryHosts[i].connection }

    /// An executor that reaches `targets` (fleet host indexes) through `jumps`.
    func executor(_ fleet: TestFleet, targets: Set<String>, jumps: [ConnectionSettings]) throws -> SSHExecutor {
        var configuration = fleet.sshConfiguration()
        configuration.resolve = { host in
            var s = host.connection
            if targets.contains(host.name) { s.jumps = jumps }
            return s
        }
        return try SSHExecutor(configuration)
    }

    /// Which process owns the local TCP socket from this port to this server port on 127.0.0.1.
    /// Both ends: another connection (to another server) may use the same local port.
    func owner(ofLocalPort port: Int, to serverPort: Int) async throws -> String {
        let ss = try await TestFleet.runProgram("/usr/bin/ss", ["-Htnp", "src", "127.0.0.1:\(port)", "dst", "127.0.0.1:\(serverPort)"])
        return ss.stdout
    }

    @Test("commands on hosts behind a bastion travel through it, and one bastion session serves them all")
    func throughBastion() async throws {
        try await TestFleet.with(FleetSpec(count: 4)) { fleet in
            let targets = Set(fleet.hosts.dropFirst().map(\.name))
            let executor = try executor(fleet, targets: targets, jumps: [hop(fleet, 0)])
            var bastionPids = Set<String>()
            for host in fleet.inventoryHosts.dropFirst() {
                // SSH_CONNECTION: "client-ip client-port server-ip server-port" as the target sees it.
                let r = try await executor.run(RemoteCommand("echo $FLEET_HOST $SSH_CONNECTION"), on: host)
                let words = r.stdout.text.split(separator: " ")
                #expect(words.first.map(String.init) == host.name)
                let clientPort = Int(words[2])!
                // The target's peer is a socket of the bastion's sshd, not of this process.
                let owner = try await owner(ofLocalPort: clientPort, to: Int(words[4].trimmingCharacters(in: .whitespacesAndNewlines))!)
                #expect(owner.contains("sshd"), "\(owner)")
                #expect(!owner.contains("pid=\(getpid()),"), "\(owner)")
                if let pid = owner.firstMatch(of: /pid=(\d+)/)?.1 { bastionPids.insert(String(pid)) }
            }
            #expect(bastionPids.count == 1)  // one bastion session process for every target
            await executor.shutdown()
        }
    }

    @Test("a chain of two jump hosts")
    func chain() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            let target = fleet.inventoryHosts[2]
            let executor = try executor(fleet, targets: [target.name], jumps: [hop(fleet, 0), hop(fleet, 1)])
            let r = try await executor.run(RemoteCommand("echo $FLEET_HOST $SSH_CONNECTION"), on: target)
            let words = r.stdout.text.split(separator: " ")
            let clientPort = Int(words[2])!
            // The target's peer is the second hop's sshd; the second hop's peer is the first's.
            let owner = try await owner(ofLocalPort: clientPort, to: Int(words[4].trimmingCharacters(in: .whitespacesAndNewlines))!)
            #expect(owner.contains("sshd"))
            let second = try await executor.run(RemoteCommand("echo $SSH_CONNECTION"), on: fleet.inventoryHosts[1])
            #expect(!second.stdout.text.isEmpty)
            #expect(r.stdout.text.hasPrefix("host03 "))
            await executor.shutdown()
        }
    }

    @Test("the target's host key is checked as usual behind the bastion")
    func targetKeyChecked() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            // known_hosts holds the bastion's key only.
            let partial = fleet.directory + "/bastion_only_known_hosts"
            let line = try String(contentsOfFile: fleet.knownHosts, encoding: .utf8).split(separator: "\n")[0]
            try (line + "\n").write(toFile: partial, atomically: true, encoding: .utf8)
            var configuration = fleet.sshConfiguration()
            configuration.knownHostsFiles = [partial]
            let bastion = hop(fleet, 0)
            configuration.resolve = { host in
                var s = host.connection
                if host.name == "host02" { s.jumps = [bastion] }
                return s
            }
            let executor = try SSHExecutor(configuration)
            let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: fleet.inventoryHosts[1]) }
            #expect(error?.kind == .hostKeyUnknown)
            #expect(error?.message.contains("[127.0.0.1]:\(fleet.hosts[1].sshPort)") == true)
            await executor.shutdown()
        }
    }

    @Test("failures say which hop failed: a jump host that is down, a target the jump host cannot reach")
    func failures() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            var downBastion = hop(fleet, 0)
            downBastion.port = 1
            downBastion.hostName = "bastion"
            let viaDown = try executor(fleet, targets: ["host02"], jumps: [downBastion])
            let e1 = await remoteError { _ = try await viaDown.run(RemoteCommand("true"), on: fleet.inventoryHosts[1]) }
            #expect(e1?.kind == .unreachable)
            #expect(e1?.host == "host02")
            #expect(e1?.message.contains("jump host bastion (127.0.0.1:1)") == true)
            await viaDown.shutdown()

            let viaUp = try executor(fleet, targets: ["host02"], jumps: [hop(fleet, 0)])
            let closed = fleet.inventoryHosts[1].with(["ansible_port": .int(1)])
            let e2 = await remoteError { _ = try await viaUp.run(RemoteCommand("true"), on: closed) }
            #expect(e2?.kind == .unreachable)
            #expect(e2?.message.contains("could not reach 127.0.0.1:1") == true)
            await viaUp.shutdown()
        }
    }

    @Test("big output and stdin cross the bridge intact")
    func bulk() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let executor = try executor(fleet, targets: ["host02"], jumps: [hop(fleet, 0)])
            let input = Array(String(repeating: "0123456789abcdef\n", count: 200_000).utf8)  // 3.4 MB up
            let up = try await executor.run(RemoteCommand("sha256sum | cut -c1-64", stdin: input), on: fleet.inventoryHosts[1])
            #expect(up.stdout.text == Digest.sha256(input).map { String(format: "%02x", $0) }.joined() + "\n")
            let down = try await executor.run(
                RemoteCommand("head -c 3000000 /dev/zero | tr '\\0' x; printf END"),
                on: fleet.inventoryHosts[1])  // 3 MB down
            #expect(down.succeeded)
            #expect(down.stdout.totalBytes == 3_000_003)
            #expect(down.stdout.text.hasSuffix("xxxEND"))
            await executor.shutdown()
        }
    }

    @Test("fleetup exec with the inventory's ProxyJump (ansible_ssh_common_args): through the bastion, end to end")
    func inventoryProxyJump() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            // The bastion is host01, named in ssh_config (a hop gets ssh_config, not the
            // target's -u/--private-key, as with ssh); hosts 02 and 03 name it as their jump.
            let config = fleet.directory + "/ssh_config"
            try """
            Host bastion
                HostName 127.0.0.1
                Port \(fleet.hosts[0].sshPort)
                User \(fleet.user)
                IdentityFile \(fleet.clientKey)
                UserKnownHostsFile \(fleet.knownHosts)

            """.write(toFile: config, atomically: true, encoding: .utf8)
            var ini = "[behind]\n"
            for h in fleet.hosts.dropFirst() {
                ini +=
                    "\(h.name) ansible_host=127.0.0.1 ansible_port=\(h.sshPort) ansible_user=\(fleet.user) "
                    + "ansible_ssh_private_key_file=\(fleet.clientKey) ansible_ssh_common_args='-o ProxyJump=bastion'\n"
            }
            let inventory = fleet.directory + "/behind.ini"
            try ini.write(toFile: inventory, atomically: true, encoding: .utf8)
            // Each command writes where it came from, then waits until the test has looked
            // (the file `go`), so the connections are still there to be inspected.
            let process = try LocalProcess(
                try TestFleet.builtProduct("fleetup"),
                [
                    "exec", "-i", inventory, "--ssh-config", config, "--known-hosts", fleet.knownHosts, "--",
                    "echo $SSH_CONNECTION > $HOME/conn; while [ ! -e $HOME/go ]; do sleep 0.05; done",
                ])
            let files = fleet.hosts.dropFirst().map { $0.root + "/home/conn" }
            let written = try await eventually { files.allSatisfy(hasLine) }
            #expect(written)
            for file in files {
                let words = try String(contentsOfFile: file, encoding: .utf8).split(separator: " ")
                let owner = try await owner(ofLocalPort: Int(words[1])!, to: Int(words[3].trimmingCharacters(in: .whitespacesAndNewlines))!)
                #expect(owner.contains("sshd"), "\(owner)")
                #expect(!owner.contains("fleetup"), "\(owner)")
            }
            for host in fleet.hosts.dropFirst() { _ = FileManager.default.createFile(atPath: host.root + "/home/go", contents: nil) }
            let r = try await TestFleet.waitForExit(process)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("2 hosts: 2 ok"))
        }
    }
}
