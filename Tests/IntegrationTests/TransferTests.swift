import FleetCore
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

@testable import FleetSSH

@Suite("SFTP uploads and tunnels against real sshd")
struct TransferTests {
    @Test("an upload arrives byte for byte with its mode, replacing the old file atomically")
    func uploadByteExact() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let home = fleet.hosts[0].root + "/home"
            // 8 MB of random bytes from a local file (32 SFTP chunks), and 600,001 bytes from
            // memory (chunks that do not divide evenly).
            let local = fleet.directory + "/random.bin"
            _ = try await TestFleet.runProgram("/bin/sh", ["-c", "head -c 8000000 /dev/urandom > \(local)"])
            let localSum = try await TestFleet.runProgram("/usr/bin/sha256sum", [local]).stdout.prefix(64)
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<600_001).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try await executor.run(RemoteCommand("echo old > \(home)/file.bin; echo old > \(home)/mem.bin"), on: host)
            try await executor.upload(.file(path: local), to: "\(home)/file.bin", mode: 0o640, on: host)
            try await executor.upload(.bytes(bytes), to: "\(home)/mem.bin", mode: 0o600, on: host)
            let check = try await executor.run(
                RemoteCommand(
                    "cd \(home) && sha256sum file.bin mem.bin | cut -c1-64; stat -c %a file.bin mem.bin; ls -a"), on: host)
            let lines = check.stdout.text.split(separator: "\n")
            #expect(lines[0] == localSum)
            #expect(lines[1] == Digest.sha256(bytes).map { String(format: "%02x", $0) }.joined())
            #expect(lines[2] == "640")
            #expect(lines[3] == "600")
            // No temporary file is left beside the targets.
            #expect(lines.dropFirst(4).filter { $0.contains("fleetup") }.isEmpty)
        }
    }

    @Test("an upload from a local file, and one into a missing folder that fails clearly")
    func uploadFileAndMissingFolder() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let local = fleet.directory + "/local.txt"
            try "from a file ✓\n".write(toFile: local, atomically: true, encoding: .utf8)
            let remote = fleet.hosts[0].root + "/home/copy.txt"
            try await executor.upload(.file(path: local), to: remote, mode: 0o600, on: host)
            #expect(try await executor.run(RemoteCommand("cat \(remote)"), on: host).stdout.text == "from a file ✓\n")

            let error = await remoteError {
                try await executor.upload(.bytes([1, 2, 3]), to: "/no/such/folder/x", mode: 0o644, on: host)
            }
            #expect(error?.kind == .uploadFailed)
            #expect(error?.message.contains("no such file or directory") == true)
        }
    }

    @Test("a tunnel to the fake app's health port returns its HTTP answer")
    func tunnelToHealthPort() async throws {
        try await withExecutor(FleetSpec(count: 1, versions: ["5.2.1"], startApps: true)) { fleet, executor in
            let tunnel = try await executor.openTunnel(to: "127.0.0.1", port: fleet.hosts[0].appPort, on: fleet.inventoryHosts[0])
            try await tunnel.write(Array("GET /api/v4/system/ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
            var response: [UInt8] = []
            while let chunk = try await tunnel.read() { response += chunk }
            await tunnel.close()
            let text = String(decoding: response, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.contains(#""status":"OK""#))
            #expect(text.contains(#""version":"5.2.1""#))
        }
    }

    @Test("a tunnel to a closed port fails as a channel failure, and the connection lives on")
    func tunnelRefused() async throws {
        try await withExecutor(FleetSpec(count: 1)) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let error = await remoteError { _ = try await executor.openTunnel(to: "127.0.0.1", port: 1, on: host) }
            #expect(error?.kind == .channelFailed)
            let alive = try await executor.run(RemoteCommand("echo alive"), on: host)
            #expect(alive.stdout.text == "alive\n")
        }
    }
}
