import FleetCore
import FleetLocal
import FleetSSH
@_spi(Testing) import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// The local fleet itself: what later tests (halts, health checks) rely on.
@Suite("the local test fleet")
struct TestFleetTests {
    @Test("a port taken by another process after the fleet chose it: the fleet comes up on new ports and answers")
    func portClash() async throws {
        let dir = NSTemporaryDirectory() + "fleetup-clash-\(getpid())-\(UUID().uuidString.prefix(8))"
        let fakeApp = try TestFleet.builtFakeApp()
        let (fleet, taken, sockets) = try await Blocking.run("port-clash") { () throws -> (TestFleet, [Int], [Int32]) in
            var taken: [Int] = []
            var sockets: [Int32] = []
            var attempts = 0
            let spec = FleetSpec(count: 2, startApps: true)
            let fleet = try TestFleet.up(spec, in: dir, fakeApp: fakeApp) { hosts in
                // "Someone else" binds host02's app port before the first attempt's apps
                // start, then host01's ssh port before the second attempt's sshd.
                attempts += 1
                let port = [1: hosts[1].appPort, 2: hosts[0].sshPort][attempts]
                if let port {
                    sockets.append(try listening(on: port))
                    taken.append(port)
                }
            }
            #expect(attempts == 3)
            return (fleet, taken, sockets)
        }
        defer { for fd in sockets { close(fd) } }
        do {
            #expect(taken.count == 2)
            #expect(!fleet.hosts.contains { taken.contains($0.sshPort) || taken.contains($0.appPort) })
            let executor = try SSHExecutor(fleet.sshConfiguration())
            for (host, h) in zip(fleet.inventoryHosts, fleet.hosts) {
                let r = try await executor.run(RemoteCommand("echo $FLEET_HOST; systemctl is-active \(h.app)"), on: host)
                #expect(r.stdout.text == "\(h.name)\nactive\n")
            }
            await executor.shutdown()
        } catch {
            try? await Blocking.run("port-clash") { try fleet.down() }
            throw error
        }
        try await Blocking.run("port-clash") { try fleet.down() }
    }

    @Test("each host is its own: HOME, PATH with its tools, its name; no rc files of the operator")
    func hostIsolation() async throws {
        try await withExecutor(FleetSpec(count: 2)) { fleet, executor in
            for (host, h) in zip(fleet.inventoryHosts, fleet.hosts) {
                let r = try await executor.run(RemoteCommand("echo $HOME; command -v systemctl; echo $FLEET_HOST"), on: host)
                #expect(r.stdout.text == "\(h.root)/home\n\(h.root)/bin/systemctl\n\(h.name)\n")
            }
        }
    }

    @Test("the fake app: version command, start/stop, health with its version, and the failure switches")
    func fakeApp() async throws {
        try await withExecutor(FleetSpec(count: 1, app: "mattermost", versions: ["5.3.1"])) { fleet, executor in
            let host = fleet.inventoryHosts[0]
            let h = fleet.hosts[0]
            func run(_ script: String) async throws -> CommandResult { try await executor.run(RemoteCommand(script), on: host) }
            func health() async throws -> String {
                let tunnel = try await executor.openTunnel(to: "127.0.0.1", port: h.appPort, on: host)
                try await tunnel.write(Array("GET /api/v4/system/ping HTTP/1.0\r\n\r\n".utf8))
                var bytes: [UInt8] = []
                while let chunk = try await tunnel.read() { bytes += chunk }
                await tunnel.close()
                return String(decoding: bytes, as: UTF8.self)
            }
            #expect(try await run("\(h.installDir)/bin/mattermost version").stdout.text.hasPrefix("Version: 5.3.1\n"))
            #expect(try await run("systemctl is-active mattermost").exitStatus == 3)
            #expect(try await run("systemctl start mattermost").succeeded)
            #expect(try await run("systemctl is-active mattermost").stdout.text == "active\n")
            let ok = try await health()
            #expect(ok.hasPrefix("HTTP/1.1 200 OK") && ok.contains(#""version":"5.3.1""#))

            // Told to fail its health check: 503, without restarting.
            try fleet.setControl("fail-health", on: h, true)
            let sick = try await health()
            #expect(sick.hasPrefix("HTTP/1.1 503") && sick.contains(#""status":"UNHEALTHY""#))
            try fleet.setControl("fail-health", on: h, false)

            // A new version on disk shows after a reload (SIGHUP), as a real app's would.
            _ = try await run("echo 5.4.0 > \(h.installDir)/VERSION && systemctl reload mattermost")
            var reloaded = ""
            for _ in 0..<100 where !reloaded.contains("5.4.0") { reloaded = try await health() }
            #expect(reloaded.contains(#""version":"5.4.0""#))

            // Told to fail its start: stop works, start exits 1 and says why.
            try fleet.setControl("fail-start", on: h, true)
            #expect(try await run("systemctl stop mattermost").succeeded)
            let start = try await run("systemctl start mattermost")
            #expect(start.exitStatus == 1)
            #expect(start.stderr.text.contains("fail-start"))
            #expect(try await run("systemctl is-active mattermost").stdout.text == "inactive\n")
        }
    }
}

/// A listening socket on 127.0.0.1:`port` (the caller closes it).
private func listening(on port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard ok, listen(fd, 8) == 0 else {
        close(fd)
        throw POSIXError(.EADDRINUSE)
    }
    return fd
}
