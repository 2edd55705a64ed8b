import FleetCore
import FleetSSH
import struct FleetCore.Host
import Foundation

/// What fleet to bring up.
public struct FleetSpec: Sendable, Hashable {
    /// Groups in order with their host counts (`staging: 3, prod: 9`).
    public var groups: [Group]
    /// The fake app's name (unit, install folder, command).
    public var app: String
    /// Installed versions, given to hosts in turn (host 1 gets the first, and so on).
    public var versions: [String]
    /// Start the app on every host (otherwise it is installed, stopped).
    public var startApps: Bool
    /// Existing local users the hosts' sshd also let in (with the fleet's client key),
    /// besides the user running the fleet: for become tests as an ordinary user.
    public var extraUsers: [String] = []

    public struct Group: Sendable, Hashable {
        public var name: String
        public var count: Int
        public init(_ name: String, _ count: Int) { self.name = name; self.count = count }
    }

    public init(groups: [Group], app: String = "app", versions: [String] = ["1.0.0"], startApps: Bool = false) {
        self.groups = groups
        self.app = app
        self.versions = versions
        self.startApps = startApps
    }

    /// `count` hosts named host01…, in one group `fleet`.
    public init(count: Int, app: String = "app", versions: [String] = ["1.0.0"], startApps: Bool = false) {
        self.init(groups: [Group("fleet", count)], app: app, versions: versions, startApps: startApps)
    }
}

/// A local fleet of real sshd processes on 127.0.0.1, each with its own host key and root
/// folder, plus a client key, a known_hosts file and an inventory. `up` starts it, `down`
/// stops exactly the processes it started. Tests and `scripts/fleet` share this code.
public final class TestFleet: Sendable {
    public let directory: String
    public let hosts: [FleetHost]
    public let user: String

    public var clientKey: String { "\(directory)/client/id_ed25519" }
    public var knownHosts: String { "\(directory)/known_hosts" }
    public var inventoryPath: String { "\(directory)/inventory.yml" }
    public var fakeApp: String { "\(directory)/bin/fleet-fakeapp" }
    var authorizedKeys: String { "\(directory)/client/authorized_keys" }
    var stateFile: String { "\(directory)/fleet.json" }

    init(directory: String, hosts: [FleetHost], user: String) {
        self.directory = directory
        self.hosts = hosts
        self.user = user
    }

    /// The fleet's hosts as inventory values: connection vars and per-host vars, as the
    /// written inventory gives them.
    public var inventoryHosts: [Host] {
        hosts.map { h in
            Host(name: h.name, vars: [
                "ansible_host": .string("127.0.0.1"),
                "ansible_port": .int(h.sshPort),
                "ansible_user": .string(user),
                "ansible_ssh_private_key_file": .string(clientKey),
                "app_port": .int(h.appPort),
                "host_root": .string(h.root),
                "install_dir": .string(h.installDir),
            ], groups: [h.group])
        }
    }

    /// Makes a host misbehave (`fail-health`, `fail-start`) or behave again.
    public func setControl(_ flag: String, on host: FleetHost, _ enabled: Bool) throws {
        let path = "\(host.controlDir)/\(flag)"
        if enabled {
            try Data().write(to: URL(fileURLWithPath: path))
        } else if FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }

    /// The version file of a host's app, as the host sees it.
    public func installedVersion(of host: FleetHost) throws -> String {
        try String(contentsOfFile: "\(host.installDir)/VERSION", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The name of the user the fleet's sshd accept (the user running the fleet).
    public static var currentUser: String { SSHConfiguration.localUser }
}
