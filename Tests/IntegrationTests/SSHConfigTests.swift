import FleetCore
import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// `fleetup exec` reaching hosts the way an operator's ssh_config says: aliases, wildcards,
/// a bastion, `-F` in the inventory; and a bad ssh_config stopping the run before any
/// connection.
@Suite("ssh_config, end to end")
struct SSHConfigTests {
    /// Writes `text` into the fleet's folder and returns the path.
    func write(_ fleet: TestFleet, _ name: String, _ text: String) throws -> String {
        let path = fleet.directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The lines every block needs to reach a fleet host: who, which key, which known_hosts.
    func credentials(_ fleet: TestFleet) -> String {
        """
            HostName 127.0.0.1
            User \(fleet.user)
            IdentityFile \(fleet.clientKey)
            IdentitiesOnly yes
            UserKnownHostsFile \(fleet.knownHosts)
        """
    }

    func fleetup(_ args: [String]) async throws -> LocalProcess.Exit {
        try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), ["exec"] + args)
    }

    @Test("a host known only by an ssh_config alias: address, port, user, key and known_hosts all come from it")
    func alias() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let config = try write(
                fleet, "ssh_config",
                """
                Host web-alias
                    Port \(fleet.hosts[0].sshPort)
                \(credentials(fleet))

                """)
            let inventory = try write(fleet, "alias.ini", "[web]\nweb-alias\n")
            let r = try await fleetup(["-i", inventory, "--ssh-config", config, "--", "echo ok from $FLEET_HOST"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("== web-alias: exit 0\nok from host01\n"), "\(r.stdout)")
            // (Not tried without the ssh_config: the bare name would go to DNS, and tests talk to
            // 127.0.0.1 only.)
        }
    }

    @Test("wildcards: one block per host for the port, one Host pattern for the rest (first value wins)")
    func wildcards() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            let ports = fleet.hosts.map { "Host \($0.name).lab\n    Port \($0.sshPort)\n" }.joined()
            // Keywords fleetup does not use are ignored; an unknown one is worth one warning.
            let extra = "Host *\n    ForwardAgent no\n    SendEnv LANG\n    Frobnicate yes\n"
            let config = try write(fleet, "ssh_config", ports + "Host *.lab\n" + credentials(fleet) + "\n" + extra)
            let inventory = try write(fleet, "lab.ini", "[lab]\n" + fleet.hosts.map { "\($0.name).lab\n" }.joined())
            let r = try await fleetup(["-i", inventory, "--ssh-config", config, "--prefix", "--", "echo $FLEET_HOST"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("host01.lab | host01\nhost02.lab | host02\nhost03.lab | host03\n"), "\(r.stdout)")
            let text = try String(contentsOfFile: config, encoding: .utf8)
            let line = try #require(text.split(separator: "\n").firstIndex { $0.contains("Frobnicate") }) + 1
            #expect(
                r.stderr
                    == "fleetup: warning: \(config):\(line): unknown keyword \"frobnicate\" ignored (ssh itself refuses it unless IgnoreUnknown names it)\n"
            )
        }
    }

    @Test("a ProxyJump in ssh_config: the target is reached through the bastion's sshd")
    func bastion() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let config = try write(
                fleet, "ssh_config",
                """
                Host bastion
                    Port \(fleet.hosts[0].sshPort)
                Host app
                    Port \(fleet.hosts[1].sshPort)
                    ProxyJump bastion
                Host *
                \(credentials(fleet))

                """)
            let inventory = try write(fleet, "app.ini", "app\n")
            // SSH_CONNECTION's client port, looked up while the command runs (the fleet is on
            // this machine): a socket of the bastion's sshd means the traffic went through it.
            let r = try await fleetup([
                "-i", inventory, "--ssh-config", config, "--",
                "set -- $SSH_CONNECTION; echo $FLEET_HOST; /usr/bin/ss -Htnp src 127.0.0.1:$2",
            ])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("== app: exit 0\nhost02\n"), "\(r.stdout)")
            #expect(r.stdout.contains("sshd"), "\(r.stdout)")
            #expect(!fleet.sshdLog(of: fleet.hosts[0], containing: "Accepted publickey").isEmpty)
        }
    }

    @Test("-F in ansible_ssh_common_args names the host's ssh_config")
    func dashF() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let config = try write(
                fleet, "per-host ssh_config", "Host db\n    Port \(fleet.hosts[0].sshPort)\n" + credentials(fleet) + "\n")
            let inventory = try write(fleet, "db.ini", "db ansible_ssh_common_args='-F \"\(config)\"'\n")
            let r = try await fleetup(["-i", inventory, "--", "echo $FLEET_HOST"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("== db: exit 0\nhost01\n"), "\(r.stdout)")
        }
    }

    @Test("a malformed ssh_config is bad input: file and line, exit 2, before any connection")
    func malformed() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let config = try write(fleet, "ssh_config", "Host web-alias\n    Port \(fleet.hosts[0].sshPort)\n    Port 2 3\n")
            let inventory = try write(fleet, "alias.ini", "web-alias\n")
            let r = try await fleetup(["-i", inventory, "--ssh-config", config, "--", "echo ok"])
            #expect(r.status == 2)
            #expect(r.stderr.contains("fleetup: \(config):3: port: expected one value, got 2"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
            #expect(fleet.sshdLog(of: fleet.hosts[0], containing: "Connection from").isEmpty)
            // A host whose ssh_config needs a ProxyCommand is refused the same way, never reached directly.
            let proxy = try write(fleet, "proxy_config", "Host web-alias\n    ProxyCommand nc %h %p\n")
            let p = try await fleetup(["-i", inventory, "--ssh-config", proxy, "--", "echo ok"])
            #expect(p.status == 2)
            #expect(p.stderr.contains("\(proxy):2: host web-alias: ProxyCommand is not supported"), "\(p.stderr)")
            #expect(fleet.sshdLog(of: fleet.hosts[0], containing: "Connection from").isEmpty)
        }
    }
}
