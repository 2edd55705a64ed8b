import FleetCore
import FleetSSH
import Foundation

import struct FleetCore.Host

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
    /// Each host in namespaces of its own (`Namespaces`: its address, sshd on port 22, its
    /// hostname, its own /opt, /tmp, /home, /var/…); needs root. The fleet's folder must
    /// then be outside /tmp (each host binds its own over it).
    public var namespaces = false
    /// The group whose hosts live on the back-end network only, reached through one more
    /// host, the bastion (ProxyJump), as many teams' prod is; namespaced fleets only.
    public var bastionGroup: String?
    /// A database host running PostgreSQL, one database and role per host, on a back-end
    /// network of the hosts (`DatabaseHost`); namespaced Mattermost fleets only. The fake
    /// Mattermost then keeps its schema version there.
    public var database = false
    /// On namespaced hosts of this group, `deploy`'s sudo asks for this password (the
    /// other hosts' sudo is NOPASSWD): `-K`, `ansible_become_password`.
    public var sudoPassword: SudoPassword?

    /// The group whose hosts' sudo asks for `password`.
    public struct SudoPassword: Sendable, Hashable {
        public var group: String
        public var password: String
        public init(group: String, password: String) {
            self.group = group
            self.password = password
        }
    }
    /// Existing local users the hosts' sshd also let in (with the fleet's client key),
    /// besides the user running the fleet: for become tests as an ordinary user.
    public var extraUsers: [String] = []
    /// What the hosts hold for the app; `.mattermost` and `.flow` need `app` to be the
    /// layout's own (`Layout.app`), which `init(groups:layout:versions:startApps:)` sets.
    public var layout: Layout = .plain

    /// What each host holds besides sshd and the fake service manager (docs/playbooks.md,
    /// "The local demo fleet").
    public enum Layout: String, Sendable, Hashable, Codable, CaseIterable {
        /// `opt/APP/` with `VERSION` and `bin/APP`, one unit APP: enough for exec, ping, plan.
        case plain
        /// What playbooks/mattermost.yml touches: `config/config.json`, `data/`, `logs/`,
        /// the file "database" in `var/lib/mattermost/`, `var/backups/`.
        case mattermost
        /// What playbooks/flow.yml touches: a git checkout of the fleet's own origin in
        /// `home/flow/live`, fake `bundle` and `yarn`, units flow-web, flow-sidekiq and
        /// flow-streaming.
        case flow

        /// The app name the layout's playbook expects (units, folders, commands).
        public var app: String {
            switch self {
            case .plain: return "app"
            case .mattermost: return "mattermost"
            case .flow: return "flow"
            }
        }

        /// The app's port on a namespaced host's own 127.0.0.1: the real app's (Mattermost
        /// 8065, Flow's web 3000).
        public var port: Int {
            switch self {
            case .plain: return 8080
            case .mattermost: return 8065
            case .flow: return 3000
            }
        }

        /// The version a host gets when the spec gives none.
        public var defaultVersion: String {
            switch self {
            case .plain: return "1.0.0"
            case .mattermost: return "5.0.0"
            case .flow: return FakeReleases.flowTags[0]
            }
        }
    }

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

    /// A fleet laid out for a showcase playbook: the app is the layout's, and with no
    /// `versions` every host gets the layout's oldest release.
    public init(groups: [Group], layout: Layout, versions: [String] = [], startApps: Bool = false) {
        self.init(
            groups: groups, app: layout.app, versions: versions.isEmpty ? [layout.defaultVersion] : versions,
            startApps: startApps)
        self.layout = layout
    }
}

/// A local fleet of real sshd processes on 127.0.0.1, each with its own host key and root
/// folder, plus a client key, a known_hosts file and an inventory. `up` starts it, `down`
/// stops exactly the processes it started. Tests and `scripts/fleet` share this code.
public final class TestFleet: Sendable {
    public let directory: String
    public let hosts: [FleetHost]
    public let user: String
    /// The fleet's database host (`FleetSpec.database`).
    public let database: DatabaseHost?
    /// The host through which the hosts of `FleetSpec.bastionGroup` are reached (not an
    /// inventory host: the inventory's ProxyJump names it).
    public let bastion: FleetHost?
    /// The back-end network's namespace (the database's, when there is one).
    let backEnd: String?
    /// Every host with an sshd: the inventory's and the bastion.
    var servers: [FleetHost] { hosts + (bastion.map { [$0] } ?? []) }
    /// The ssh_config naming the bastion.
    public var sshConfig: String { "\(directory)/ssh_config" }

    public var clientKey: String { "\(directory)/client/id_ed25519" }
    public var knownHosts: String { "\(directory)/known_hosts" }
    public var inventoryPath: String { "\(directory)/inventory.yml" }
    public var fakeApp: String { "\(directory)/bin/fleet-fakeapp" }
    var authorizedKeys: String { "\(directory)/client/authorized_keys" }
    var stateFile: String { "\(directory)/fleet.json" }

    init(
        directory: String, hosts: [FleetHost], user: String, database: DatabaseHost? = nil, bastion: FleetHost? = nil,
        backEnd: String? = nil
    ) {
        self.directory = directory
        self.hosts = hosts
        self.user = user
        self.database = database
        self.bastion = bastion
        self.backEnd = backEnd
    }

    /// The fleet's hosts as inventory values: connection vars and per-host vars, as the
    /// written inventory gives them.
    public var inventoryHosts: [Host] {
        hosts.map { h in
            Host(
                name: h.name,
                vars: [
                    "ansible_host": .string(h.address),
                    "ansible_port": .int(h.sshPort),
                    "ansible_user": .string(user),
                    "ansible_ssh_private_key_file": .string(clientKey),
                    "app_port": .int(h.appPort),
                    "host_root": .string(h.root),
                    "install_dir": .string(h.installDirOnHost),
                ], groups: [h.group])
        }
    }

    /// Makes a host misbehave (`fail-health`, `fail-start`, `fail-migrate`) whatever its
    /// version, or behave again.
    public func setControl(_ flag: String, on host: FleetHost, _ enabled: Bool) throws {
        let path = "\(host.controlDir)/\(flag)"
        if enabled {
            try Data().write(to: URL(fileURLWithPath: path))
        } else if FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
    }

    /// Makes a host misbehave only while it runs `version` (`fail-health` at 5.3.0: the
    /// release that breaks its health, while 5.2.0 was fine; a leading `v` is ignored).
    public func setControl(_ flag: String, on host: FleetHost, onlyAt version: String) throws {
        try Data((version + "\n").utf8).write(to: URL(fileURLWithPath: "\(host.controlDir)/\(flag)"))
    }

    /// The version file of a host's app, as the host sees it.
    public func installedVersion(of host: FleetHost) throws -> String {
        try String(contentsOfFile: "\(host.installDir)/VERSION", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The name of the user the fleet's sshd accept (the user running the fleet).
    public static var currentUser: String { SSHConfiguration.localUser }
}
