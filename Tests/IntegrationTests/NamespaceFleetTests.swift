import FleetLocal
import Foundation
import Testing

@testable import FleetTestFleet

/// Test hosts that look like servers to everything fleetup touches (issue 13): each in its
/// own network namespace (its address, sshd on port 22, its own 127.0.0.1), its own
/// hostname, /opt and /tmp, its own users (`deploy` with real sudo, the app's user owning
/// its files) — reached by the built fleetup over real SSH.
/// Serialized: every namespaced `up` sweeps the namespaces of dead owners, and the sweep
/// test makes one on purpose.
@Suite("namespaced test hosts", .serialized, .enabled(if: Namespaces.available, "needs root, ip (iproute2), unshare and nsenter"))
struct NamespaceFleetTests {
    @Test("each host: its own address on port 22, hostname, /opt, /tmp, 127.0.0.1 and users (deploy, sudo); down removes its namespace")
    func ownHost() async throws {
        var spec = FleetSpec(count: 3, versions: ["1.0.0", "1.1.0", "1.2.0"], startApps: true)
        spec.namespaces = true
        let names = try await TestFleet.with(spec) { fleet -> [String] in
            // The machine has no /etc/app: each host's is its own (its /etc an overlay).
            #expect(!FileManager.default.fileExists(atPath: "/etc/app"))
            // A file in one host's /tmp, seen by that host only.
            try Data("mine\n".utf8).write(to: URL(fileURLWithPath: fleet.hosts[0].root + "/tmp/marker"))
            let script =
                "hostname; echo \"$SSH_CONNECTION\" | cut -d' ' -f3,4; cat /opt/app/VERSION; cat /tmp/marker 2>/dev/null || echo none; "
                + "systemctl is-active app; id -un; echo $HOME; stat -c %U /opt/app/VERSION /etc/app; sudo -n id -un; "
                // An HTTP GET of 127.0.0.1:8080 on the host: its own app answers its version.
                + "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /version HTTP/1.0\\r\\n\\r\\n' >&3 && tail -n 1 <&3"
            let r = try await TestFleet.runProgram(
                try TestFleet.builtProduct("fleetup"),
                ["exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "--prefix", "--", script])
            #expect(r.status == 0, "\(r.stderr)")
            for (i, host) in fleet.hosts.enumerated() {
                #expect(host.address.hasPrefix("198.18.") && host.sshPort == 22)
                let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("\(host.name) | ") }.map {
                    String($0.dropFirst(host.name.count + 3))
                }
                // Logged in as deploy (its own home), the app's files its user's, sudo to root.
                #expect(
                    lines == [
                        host.name, "\(host.address) 22", "1.\(i).0", i == 0 ? "mine" : "none", "active", "deploy", "/home/deploy", "app",
                        "app", "root", "1.\(i).0",
                    ], "\(r.stdout)")
            }
            // fleetup's own become (sudo -S with its prompt) on these hosts.
            let become = try await TestFleet.runProgram(
                try TestFleet.builtProduct("fleetup"),
                [
                    "exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "-b", "--",
                    "id -un; systemctl restart app && systemctl is-active app",
                ])
            #expect(become.status == 0 && become.stdout.contains("3 hosts: 3 ok"), "\(become.stdout)\(become.stderr)")
            #expect(become.stdout.contains("root\nactive\n") && !become.stdout.contains("deploy"), "\(become.stdout)")
            // The restart (through sudo, which drops the environment) reached each host's own app.
            for host in fleet.hosts { #expect(fleet.serviceLog(of: host) == ["restart app"], "\(host.name)") }
            // Each host's app listens on its own 127.0.0.1:8080: three of them, one port.
            #expect(Set(fleet.hosts.map(\.appPort)) == [8080])
            let ours = Set(Namespaces.ours())
            #expect(fleet.hosts.allSatisfy { $0.netns.map(ours.contains) == true })
            return fleet.hosts.compactMap(\.netns)
        }
        #expect(names.count == 3)
        #expect(Set(Namespaces.ours()).isDisjoint(with: names))
    }

    @Test("a group whose sudo wants a password: -b without it fails become-failed there only; with it, or wrong, as sudo says")
    func sudoPassword() async throws {
        var spec = FleetSpec(groups: [.init("open", 1), .init("guarded", 1)])
        spec.namespaces = true
        spec.sudoPassword = .init(group: "guarded", password: "s3cret-sudo")
        try await TestFleet.with(spec) { fleet in
            let fleetup = try TestFleet.builtProduct("fleetup")
            let args = ["exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "-b", "--", "id -un"]
            func run(_ password: String?) async throws -> LocalProcess.Exit {
                var env = ProcessInfo.processInfo.environment
                env["FLEETUP_BECOME_PASSWORD"] = password
                return try await TestFleet.runProgram(fleetup, args, environment: env)
            }
            let none = try await run(nil)
            #expect(none.status == 1, "\(none.stdout)\(none.stderr)")
            #expect(none.stdout.contains("open01: exit 0\nroot\n"), "\(none.stdout)")
            #expect(none.stdout.contains("guarded01: become-failed"), "\(none.stdout)")
            let right = try await run("s3cret-sudo")
            #expect(right.status == 0 && right.stdout.contains("2 hosts: 2 ok"), "\(right.stdout)\(right.stderr)")
            let wrong = try await run("not-it")
            #expect(wrong.status == 1 && wrong.stdout.contains("guarded01: become-failed"), "\(wrong.stdout)")
            // The password never reaches the output.
            #expect(!(none.stdout + right.stdout + wrong.stdout + right.stderr + wrong.stderr).contains("s3cret-sudo"))
        }
    }

    @Test("the namespaces of a test process that died are swept by the next namespaced fleet; a scripts/fleet fleet's are not")
    func staleSweep() throws {
        // A test process that made its namespace and was killed before `down`.
        let dead = try LocalProcess("/bin/true", [])
        let deadPid = dead.pid
        try dead.wait()
        // (create sweeps first: the live one is made before the dead one.)
        let cli = try #require(
            try Namespaces.create(count: 1, tag: "k\(String(UInt16.random(in: 0x1000...0xffff), radix: 16))", owner: nil).first)
        let left = try #require(try Namespaces.create(count: 1, tag: "dead", owner: deadPid).first)
        defer { Namespaces.remove(cli.netns) }
        #expect(Namespaces.ours().contains(left.netns) && Namespaces.ours().contains(cli.netns))
        // Swept by this sweep, or by another suite's namespaced `up` in between: gone either way.
        Namespaces.sweepStale()
        #expect(!Namespaces.ours().contains(left.netns))
        // Its veth pair went with it; the scripts/fleet one stays until its `down`.
        #expect(throws: (any Error).self) { try Tool.run(try Tool.path(of: "ip"), ["link", "show", left.outerLink]) }
        #expect(Namespaces.ours().contains(cli.netns))
    }
}
