import FleetLocal
import Foundation
import Testing

@testable import FleetTestFleet

/// The networks of a namespaced fleet: a group behind a bastion, the database host on the
/// back end, and nothing of a fleet left once its test process is killed. Part of the
/// namespaced suite (serialized with its stale-namespace sweep).
extension NamespaceFleetTests {
    static var dbSpec: FleetSpec {
        var spec = FleetSpec(groups: [.init("staging", 1), .init("prod", 2)], layout: .mattermost, versions: ["5.2.0"], startApps: true)
        spec.namespaces = true
        spec.database = true
        spec.bastionGroup = "prod"
        return spec
    }

    /// A TCP connection from this machine's own namespace: nil when it connects, else why not.
    static func connectFails(_ address: String, _ port: Int) async throws -> String? {
        let r = try await TestFleet.runProgram("/bin/bash", ["-c", "exec 3<>/dev/tcp/\(address)/\(port)"])
        return r.status == 0 ? nil : r.stderr
    }

    @Test(
        "a group behind a bastion: unreachable from the machine, reached through the bastion; the database on the back end only",
        .enabled(if: DatabaseHost.available, "needs PostgreSQL's server (Debian's postgresql)"))
    func bastion() async throws {
        try await TestFleet.with(Self.dbSpec) { fleet in
            let bastion = try #require(fleet.bastion)
            let behind = fleet.hosts.filter(\.behindBastion)
            #expect(behind.map(\.name) == ["prod01", "prod02"])
            #expect(behind.allSatisfy { $0.address.hasPrefix("198.19.") } && fleet.hosts[0].address.hasPrefix("198.18."))
            // Through the fleet's inventory (ProxyJump bastion, its ssh_config): the hosts behind
            // it see the bastion's back-end address as their client; staging sees the machine.
            let fleetup = try TestFleet.builtProduct("fleetup")
            let r = try await TestFleet.runProgram(
                fleetup,
                [
                    "exec", "-i", fleet.inventoryPath, "--known-hosts", fleet.knownHosts, "--prefix", "--",
                    "echo \"$SSH_CONNECTION\" | cut -d' ' -f1; pg_isready -q -h 198.19.0.1 && echo database-ready",
                ])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let back = try #require(bastion.namespace?.backAddress)
            for host in fleet.hosts {
                let client = host.behindBastion ? back : try #require(host.namespace?.fleetAddress)
                let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix(host.name + " ") }.map {
                    $0.split(separator: "|", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                }
                #expect(lines == [client, "database-ready"], "\(host.name): \(r.stdout)")
            }
            // The machine routes the fleets' range nowhere: never out by its default route.
            for address in [behind[0].address, DatabaseHost.address] {
                let route = try await TestFleet.runProgram(try Tool.path(of: "ip"), ["route", "get", address])
                #expect(route.status != 0 && route.stderr.contains("No route to host"), "\(route.stdout)\(route.stderr)")
            }
            // Directly, as if the bastion were not there: no route from the machine.
            let direct = try await TestFleet.runProgram(
                fleetup,
                [
                    "ping", "-i", "\(behind[0].address),", "-u", Namespaces.loginUser, "--private-key", fleet.clientKey,
                    "--known-hosts", fleet.knownHosts, "--connect-timeout", "5",
                ])
            #expect(
                direct.status != 0 && direct.stdout.contains("unreachable: \(behind[0].address):22: no route to host"),
                "\(direct.stdout)\(direct.stderr)")
            for (address, port) in [(behind[0].address, 22), (DatabaseHost.address, DatabaseHost.port)] {
                let why = try await Self.connectFails(address, port)
                #expect(why?.contains("No route to host") == true, "\(address):\(port): \(why ?? "connected")")
            }
        }
    }

    @Test(
        "a test process killed with its fleet up: the next sweep leaves no namespace, link, mount or process of it",
        .enabled(if: DatabaseHost.available, "needs PostgreSQL's server (Debian's postgresql)"))
    func killedOwner() async throws {
        let owner = try LocalProcess("/bin/sleep", ["600"])
        let dir = "/var/tmp/fleetup-test-\(getpid())-killed-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fakeApp = try TestFleet.builtFakeApp()
        let spec = Self.dbSpec
        let fleet = try await offPool { try TestFleet.up(spec, in: dir, fakeApp: fakeApp, owner: owner.pid) }
        let namespaces = fleet.servers.compactMap(\.netns) + [fleet.backEnd].compactMap { $0 }
        let links = fleet.servers.compactMap(\.namespace).filter { $0.hidden != true }.map(\.outerLink)
        #expect(namespaces.count == 5 && links.count == 2)
        #expect(!Processes.all(commandLineContaining: dir + "/").isEmpty)
        kill(owner.pid, SIGKILL)
        _ = try? owner.wait()
        // This sweep, or another suite's namespaced `up` in between, removes them.
        Namespaces.sweepStale()
        let ip = try Tool.path(of: "ip")
        let netnsList = try Tool.run(ip, ["netns", "list"])
        let linkList = try Tool.run(ip, ["-o", "link", "show"])
        for name in namespaces { #expect(!netnsList.contains(name), "\(name) is left") }
        for link in links { #expect(!linkList.contains(link + "@"), "\(link) is left") }
        let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        #expect(!mounts.contains(dir) && !mounts.contains("/run/netns/\(namespaces[0])"), "\(mounts)")
        // sshd, the apps, PostgreSQL: all gone with their namespaces.
        #expect(Processes.all(commandLineContaining: dir + "/").isEmpty)
    }
}

extension NamespaceFleetTests {
    @Test("two fleets of one owner never share a tag: a tag in use is refused (the fleet draws another)")
    func tagTaken() throws {
        let tag = "t" + String(UInt16.random(in: 0x1000...0xffff), radix: 16)
        let first = try Namespaces.create(count: 1, tag: tag, owner: getpid())
        defer {
            for slot in first { Namespaces.remove(slot.netns) }
            Namespaces.releaseRangeIfUnused()
        }
        #expect(first.count == 1 && Namespaces.ours().contains(first[0].netns))
        #expect(throws: Namespaces.TagTaken.self) { try Namespaces.create(count: 1, tag: tag, owner: getpid()) }
    }
}
