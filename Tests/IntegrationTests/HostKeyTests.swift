import FleetCore
import FleetLocal
import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

@Suite("host keys against real sshd")
struct HostKeyTests {
    @Test("an unknown host is refused with host, port, key type and fingerprint; accept-new records it")
    func unknownThenAcceptNew() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let host = fleet.inventoryHosts[0]
            let port = fleet.hosts[0].sshPort
            let knownHosts = fleet.directory + "/empty_known_hosts"
            let fingerprint = try LocalProcess.run(LocalProcess.find("ssh-keygen")!, ["-lf", fleet.hosts[0].hostKey + ".pub"])
                .split(separator: " ")[1]

            var strict = fleet.sshConfiguration()
            strict.knownHostsFiles = [knownHosts]
            let refusing = try SSHExecutor(strict)
            let error = await remoteError { _ = try await refusing.run(RemoteCommand("true"), on: host) }
            await refusing.shutdown()
            #expect(error?.kind == .hostKeyUnknown)
            #expect(error?.message.contains("[127.0.0.1]:\(port)") == true)
            #expect(error?.message.contains("ssh-ed25519") == true)
            #expect(error?.message.contains(String(fingerprint)) == true)
            #expect(!FileManager.default.fileExists(atPath: knownHosts))

            var acceptNew = strict
            acceptNew.hostKeyPolicy = .acceptNew
            let accepting = try SSHExecutor(acceptNew)
            #expect(try await accepting.run(RemoteCommand("echo in"), on: host).stdout.text == "in\n")
            await accepting.shutdown()
            let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
            #expect(recorded.hasPrefix("[127.0.0.1]:\(port) ssh-ed25519 "))

            // The recorded entry is enough for a strict run afterwards.
            let again = try SSHExecutor(strict)
            #expect(try await again.run(RemoteCommand("echo again"), on: host).stdout.text == "again\n")
            await again.shutdown()
        }
    }

    @Test("a changed key is refused, even under accept-new, naming the known_hosts line")
    func changedKeyRefused() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            // host01's entry, but with host02's key: as if host01 had been replaced.
            let port = fleet.hosts[0].sshPort
            let otherKey = try String(contentsOfFile: fleet.hosts[1].hostKey + ".pub", encoding: .utf8).split(separator: " ")
            let lying = fleet.directory + "/lying_known_hosts"
            try "# a comment\n[127.0.0.1]:\(port) \(otherKey[0]) \(otherKey[1])\n".write(toFile: lying, atomically: true, encoding: .utf8)
            for policy in [HostKeyPolicy.strict, .acceptNew] {
                var configuration = fleet.sshConfiguration(policy: policy)
                configuration.knownHostsFiles = [lying]
                let executor = try SSHExecutor(configuration)
                let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: fleet.inventoryHosts[0]) }
                await executor.shutdown()
                #expect(error?.kind == .hostKeyChanged)
                #expect(error?.message.contains("HOST KEY CHANGED") == true)
                #expect(error?.message.contains("\(lying):2") == true)
            }
            #expect(try String(contentsOfFile: lying, encoding: .utf8).split(separator: "\n").count == 2)
        }
    }

    @Test("hashed known_hosts entries (ssh-keygen -H) are matched")
    func hashedEntries() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let hashed = fleet.directory + "/hashed_known_hosts"
            try FileManager.default.copyItem(atPath: fleet.knownHosts, toPath: hashed)
            try LocalProcess.run(LocalProcess.find("ssh-keygen")!, ["-H", "-f", hashed])
            let text = try String(contentsOfFile: hashed, encoding: .utf8)
            #expect(text.hasPrefix("|1|"))
            var configuration = fleet.sshConfiguration()
            configuration.knownHostsFiles = [hashed]
            let executor = try SSHExecutor(configuration)
            #expect(try await executor.run(RemoteCommand("echo hashed"), on: fleet.inventoryHosts[0]).stdout.text == "hashed\n")
            await executor.shutdown()
        }
    }

    @Test("StrictHostKeyChecking no: any key is accepted, nothing is recorded, and a loud warning names the host")
    func insecureAcceptAny() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let empty = fleet.directory + "/empty_known_hosts"
            let warnings = Recorder<String>()
            var configuration = fleet.sshConfiguration()
            configuration.knownHostsFiles = [empty]
            configuration.warn = { warnings.append($0) }
            configuration.resolve = { host in
                var s = host.connection
                s.hostKeyPolicy = .insecureAcceptAny
                return s
            }
            let executor = try SSHExecutor(configuration)
            for host in fleet.inventoryHosts {
                #expect(try await executor.run(RemoteCommand("echo in"), on: host).stdout.text == "in\n")
            }
            await executor.shutdown()
            #expect(warnings.all.count == 2)
            #expect(warnings.all.allSatisfy { $0.contains("NOT CHECKED") && $0.contains("StrictHostKeyChecking no") })
            #expect(warnings.all.contains { $0.hasPrefix("host01: WARNING") })
            #expect(!FileManager.default.fileExists(atPath: empty))
        }
    }
}
