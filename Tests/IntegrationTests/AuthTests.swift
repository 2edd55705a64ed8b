import FleetCore
import FleetLocal
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

@testable import FleetSSH

@Suite("authentication against real sshd")
struct AuthTests {
    let keygen = LocalProcess.find("ssh-keygen")!

    /// Makes a client key and lets the fleet's hosts accept it.
    func authorizedKey(_ fleet: TestFleet, type: String, passphrase: String = "") throws -> String {
        let path = fleet.directory + "/client/extra_\(type)_\(UUID().uuidString.prefix(6))"
        var args = ["-q", "-t", type, "-N", passphrase, "-f", path]
        if type == "rsa" { args += ["-b", "2048"] }
        try LocalProcess.run(keygen, args)
        let pub = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: fleet.directory + "/client/authorized_keys"))
        handle.seekToEndOfFile()
        handle.write(Data(pub.utf8))
        try handle.close()
        return path
    }

    @Test("connect reports the server, its host key and how we logged in")
    func connectionInfo() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let info = try await executor.connect(fleet.inventoryHosts[0])
            let expected = try LocalProcess.run(keygen, ["-lf", fleet.hosts[0].hostKey + ".pub"]).split(separator: " ")[1]
            #expect(info.serverBanner.hasPrefix("SSH-2.0-OpenSSH_"))
            #expect(info.hostKeyType == "ssh-ed25519")
            #expect(info.hostKeyFingerprint == String(expected))
            #expect(info.authenticatedWith.contains(fleet.clientKey))
        }
    }

    @Test("a key the server does not accept fails authentication, naming the key")
    func wrongKey() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let stranger = fleet.directory + "/client/stranger"
            try LocalProcess.run(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", stranger])
            let host = fleet.inventoryHosts[0].with(["ansible_ssh_private_key_file": .string(stranger)])
            let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: host) }
            #expect(error?.kind == .authFailed)
            let fingerprint = try LocalProcess.run(keygen, ["-lf", stranger + ".pub"]).split(separator: " ")[1]
            #expect(error?.message.contains("key \(stranger) (ssh-ed25519 \(fingerprint)): refused") == true)
        }
    }

    @Test("a missing key file is a key problem, not a silent fallback")
    func missingKey() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0].with(["ansible_ssh_private_key_file": .string("/nonexistent/key")])
            let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: host) }
            #expect(error?.kind == .keyProblem)
            #expect(error?.message.contains("/nonexistent/key does not exist") == true)
        }
    }

    @Test("ssh-agent authentication (no key file given)")
    func agent() async throws {
        try await TestFleet.with(FleetSpec(count: 2)) { fleet in
            let agent = try TestAgent(in: fleet)
            defer { agent.stop() }
            let socket = agent.socket
            try agent.add([fleet.clientKey])

            var configuration = fleet.sshConfiguration()
            configuration.agentSocket = socket
            let executor = try SSHExecutor(configuration)
            for host in fleet.inventoryHosts {
                var keyless = host
                keyless.vars["ansible_ssh_private_key_file"] = nil
                let info = try await executor.connect(keyless)
                #expect(info.authenticatedWith.contains("ssh-agent"))
                #expect(try await executor.run(RemoteCommand("echo agent"), on: keyless).stdout.text == "agent\n")
            }
            await executor.shutdown()
        }
    }

    @Test("agent keys first, the host's own key file's copy before the agent's others; IdentitiesOnly skips the agent")
    func agentOrder() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let agent = try TestAgent(in: fleet)
            defer { agent.stop() }
            let socket = agent.socket
            // The agent holds a stranger's key first, then the fleet's key.
            let stranger = fleet.directory + "/client/stranger"
            try LocalProcess.run(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", stranger])
            try agent.add([stranger])
            try agent.add([fleet.clientKey])
            let fleetKey = try LocalProcess.run(keygen, ["-lf", fleet.clientKey + ".pub"]).split(separator: " ")[1]

            var configuration = fleet.sshConfiguration()
            configuration.agentSocket = socket
            let viaAgent = try SSHExecutor(configuration)
            let info = try await viaAgent.connect(fleet.inventoryHosts[0])
            await viaAgent.shutdown()
            #expect(info.authenticatedWith.hasPrefix("ssh-agent"))
            #expect(info.authenticatedWith.contains(String(fleetKey)))

            configuration.resolve = { host in
                var s = host.connection
                s.identitiesOnly = true
                return s
            }
            let filesOnly = try SSHExecutor(configuration)
            let direct = try await filesOnly.connect(fleet.inventoryHosts[0])
            await filesOnly.shutdown()
            #expect(direct.authenticatedWith.hasPrefix("key \(fleet.clientKey)"))

            // Nothing the server accepts (the agent keeps only the stranger's key): every key
            // tried is listed with its fingerprint.
            try agent.add(["-d", fleet.clientKey + ".pub"])
            configuration.resolve = { host in
                var s = host.connection
                s.identityFiles = [stranger]
                return s
            }
            let refused = try SSHExecutor(configuration)
            let error = await remoteError { _ = try await refused.connect(fleet.inventoryHosts[0].renamed("x")) }
            await refused.shutdown()
            let strangerKey = try LocalProcess.run(keygen, ["-lf", stranger + ".pub"]).split(separator: " ")[1]
            #expect(error?.kind == .authFailed)
            #expect(error?.message.contains("ssh-agent (\(socket)) key") == true)
            #expect(error?.message.contains(String(strangerKey)) == true)
            // sshd logs each key it refused: the stranger's only in this last connection, so the
            // first one offered the agent's copy of the host's own key before the stranger's.
            let refusals = { fleet.sshdLog(of: fleet.hosts[0], containing: "Failed publickey").filter { $0.contains(strangerKey) } }
            let logged = try await eventually { !refusals().isEmpty }
            #expect(logged)
            #expect(refusals().count == 1)
        }
    }

    @Test("an encrypted key with no passphrase given is skipped when the agent can log in, and named when nothing can")
    func encryptedKeySkipped() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let locked = try authorizedKey(fleet, type: "ed25519", passphrase: "unknown to fleetup")
            let agent = try TestAgent(in: fleet)
            defer { agent.stop() }
            let socket = agent.socket
            try agent.add([fleet.clientKey])
            var configuration = fleet.sshConfiguration()
            configuration.agentSocket = socket
            configuration.resolve = { host in
                var s = host.connection
                s.identityFiles = [locked]  // as ssh_config's `Host * IdentityFile` would add it
                return s
            }
            let executor = try SSHExecutor(configuration)
            let info = try await executor.connect(fleet.inventoryHosts[0])
            await executor.shutdown()
            #expect(info.authenticatedWith.hasPrefix("ssh-agent"))

            // The agent empty: the skipped key is named with its reason.
            try agent.add(["-D"])
            let refused = try SSHExecutor(configuration)
            let error = await remoteError { _ = try await refused.connect(fleet.inventoryHosts[0]) }
            await refused.shutdown()
            #expect(error?.kind == .authFailed)
            #expect(error?.message.contains("\(locked) is encrypted") == true)
        }
    }

    @Test("an encrypted key is decrypted once for the whole fleet")
    func encryptedKeyOnce() async throws {
        try await TestFleet.with(FleetSpec(count: 5)) { fleet in
            let key = try authorizedKey(fleet, type: "ed25519", passphrase: "correct horse")
            var configuration = fleet.sshConfiguration()
            configuration.passphrase = { $0 == key ? "correct horse" : nil }
            let executor = try SSHExecutor(configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for host in fleet.inventoryHosts {
                    group.addTask {
                        let h = host.with(["ansible_ssh_private_key_file": .string(key)])
                        let out = try await executor.run(RemoteCommand("echo ok"), on: h).stdout.text
                        #expect(out == "ok\n")
                    }
                }
                try await group.waitForAll()
            }
            #expect(await executor.keysDecrypted == 1)
            await executor.shutdown()
        }
    }

    @Test("an encrypted key without its passphrase, or with a wrong one, is a clear key problem")
    func encryptedKeyProblems() async throws {
        try await TestFleet.with(FleetSpec(count: 1)) { fleet in
            let key = try authorizedKey(fleet, type: "ed25519", passphrase: "right")
            let host = fleet.inventoryHosts[0].with(["ansible_ssh_private_key_file": .string(key)])
            for (passphrase, expected) in [(nil, "FLEETUP_SSH_PASSPHRASE"), ("wrong", "wrong passphrase")] as [(String?, String)] {
                var configuration = fleet.sshConfiguration()
                configuration.passphrase = { _ in passphrase }
                let executor = try SSHExecutor(configuration)
                let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: host) }
                await executor.shutdown()
                #expect(error?.kind == .keyProblem)
                #expect(error?.message.contains(expected) == true)
            }
        }
    }

    @Test("ecdsa keys authenticate (P-256, P-384, P-521)", arguments: ["256", "384", "521"])
    func ecdsa(bits: String) async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let path = fleet.directory + "/client/ecdsa\(bits)"
            try LocalProcess.run(keygen, ["-q", "-t", "ecdsa", "-b", bits, "-N", "", "-f", path])
            let pub = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: fleet.directory + "/client/authorized_keys"))
            handle.seekToEndOfFile()
            handle.write(Data(pub.utf8))
            try handle.close()
            let host = fleet.inventoryHosts[0].with(["ansible_ssh_private_key_file": .string(path)])
            let info = try await executor.connect(host)
            #expect(info.authenticatedWith.contains("ecdsa-sha2-nistp\(bits)"))
            #expect(try await executor.run(RemoteCommand("echo ok"), on: host).stdout.text == "ok\n")
        }
    }

    @Test("fleetup exec reads an encrypted key's passphrase from FLEETUP_SSH_PASSPHRASE, and never prints it")
    func passphraseFromEnvironment() async throws {
        try await TestFleet.with(FleetSpec(count: 3)) { fleet in
            let key = try authorizedKey(fleet, type: "ed25519", passphrase: "s3cret-phrase")
            // The same fleet, with the encrypted key as every host's key.
            let inventory = fleet.directory + "/encrypted.yml"
            let text = try String(contentsOfFile: fleet.inventoryPath, encoding: .utf8)
                .replacingOccurrences(of: fleet.clientKey, with: key)
            try text.write(toFile: inventory, atomically: true, encoding: .utf8)
            var env = ProcessInfo.processInfo.environment
            env["FLEETUP_SSH_PASSPHRASE"] = "s3cret-phrase"
            let args = ["exec", "-i", inventory, "--known-hosts", fleet.knownHosts, "--", "echo in"]
            let r = try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), args, environment: env)
            #expect(r.status == 0)
            #expect(r.stdout.contains("== host[01-03] (3): exit 0\nin\n"))
            #expect(!(r.stdout + r.stderr).contains("s3cret-phrase"))
            env["FLEETUP_SSH_PASSPHRASE"] = nil
            let without = try await TestFleet.runProgram(try TestFleet.builtProduct("fleetup"), args, environment: env)
            #expect(without.status == 3)
            #expect(without.stdout.contains("is encrypted: set FLEETUP_SSH_PASSPHRASE"))
        }
    }

    @Test("an RSA key against OpenSSH >= 8.8 says why it cannot work with libssh2 < 1.11")
    func rsaAgainstModernOpenSSH() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let key = try authorizedKey(fleet, type: "rsa")
            let host = fleet.inventoryHosts[0].with(["ansible_ssh_private_key_file": .string(key)])
            if LibSSH2.signsRSAWithSHA2 {
                #expect(try await executor.run(RemoteCommand("true"), on: host).succeeded)
            } else {
                let error = await remoteError { _ = try await executor.run(RemoteCommand("true"), on: host) }
                #expect(error?.kind == .authFailed)
                #expect(error?.message.contains("RSA keys cannot work here") == true)
                #expect(error?.message.contains("libssh2 \(LibSSH2.runtimeVersion)") == true)
            }
        }
    }
}
