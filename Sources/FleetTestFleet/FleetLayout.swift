import FleetCore

/// One host of a local test fleet: an sshd on 127.0.0.1 with its own root folder.
public struct FleetHost: Sendable, Hashable, Codable {
    /// Inventory name (`staging01`, `host042`).
    public var name: String
    /// The inventory group the host is in (a stage, for rollout tests).
    public var group: String
    public var sshPort: Int
    /// The fake app's HTTP port (health endpoint), on 127.0.0.1.
    public var appPort: Int
    /// The host's root folder: its `home/`, `bin/`, `opt/APP/`, `control/`, sshd files.
    public var root: String
    /// The app's name: its unit, its install folder under `opt/`, its command.
    public var app: String
    public var layout: FleetSpec.Layout = .plain
    /// The user the app runs as and owns its files: the app's own on a namespaced host;
    /// nil on a loopback host (the fleet's user).
    var appUser: String? { netns == nil ? nil : app }
    /// A namespaced host (`FleetSpec.namespaces`): its network namespace and address (sshd
    /// on port 22 there). Nil: sshd on 127.0.0.1 at `sshPort`.
    var namespace: Namespaces.Slot?
    /// Its database and role on the fleet's database host (`FleetSpec.database`).
    public var database: DatabaseHost.Account?

    /// The address sshd listens on.
    public var address: String {
        guard let namespace else { return "127.0.0.1" }
        return namespace.hidden == true ? namespace.backAddress ?? namespace.hostAddress : namespace.hostAddress
    }
    /// Reached through the fleet's bastion only (`FleetSpec.bastionGroup`).
    public var behindBastion: Bool { namespace?.hidden == true }
    /// The host's network namespace, when it has one.
    public var netns: String? { namespace?.netns }

    /// Where the app lives, as the fleet sees it: `opt/APP`, or the Flow checkout
    /// `home/flow/live`, in the host's folder.
    public var installDir: String { root + installPath }
    /// The app's folder as a real server has it (`/opt/mattermost`, `/home/flow/live`).
    var installPath: String { layout == .flow ? "/home/flow/live" : "/opt/\(app)" }
    /// A path as commands on the host name it: a namespaced host has its own `/opt`, `/var/…`
    /// (the real paths); a loopback host's are in its folder.
    public func onHost(_ path: String) -> String { netns == nil ? root + path : path }
    /// The app's folder as commands on the host name it.
    public var installDirOnHost: String { onHost(installPath) }
    /// The units of the host's `systemctl`: the app, or Flow's three.
    public var units: [String] {
        layout == .flow ? ["\(app)-web", "\(app)-sidekiq", "\(app)-streaming"] : [app]
    }
    public var controlDir: String { "\(root)/control" }
    /// One line per `systemctl` start, stop, restart or reload (`restart flow-sidekiq`).
    public var serviceLogFile: String { "\(root)/log/services.log" }
    /// One line per fake `bundle`, `yarn` or `flowctl` action (`db:migrate v3.1.2`).
    public var flowLogFile: String { "\(root)/log/flow.log" }
    /// The Mattermost layout's own app log: a line per start, with the version.
    public var appLogFile: String { "\(installDir)/logs/\(app).log" }
    /// The app's log as commands on the host name it.
    var appLogOnHost: String { "\(installDirOnHost)/logs/\(app).log" }
    public var sshdConfig: String { "\(root)/sshd_config" }
    public var sshdPidFile: String { "\(root)/sshd.pid" }
    public var sshdLog: String { "\(root)/sshd.log" }
    public var hostKey: String { "\(root)/ssh_host_ed25519_key" }

    private enum CodingKeys: String, CodingKey {
        case name, group, sshPort, appPort, root, app, layout, namespace, database
    }

    init(name: String, group: String, sshPort: Int, appPort: Int, root: String, app: String, layout: FleetSpec.Layout) {
        (self.name, self.group, self.sshPort, self.appPort) = (name, group, sshPort, appPort)
        (self.root, self.app, self.layout) = (root, app, layout)
    }

    /// A fleet.json written before layouts existed reads as `.plain`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), group: try c.decode(String.self, forKey: .group),
            sshPort: try c.decode(Int.self, forKey: .sshPort), appPort: try c.decode(Int.self, forKey: .appPort),
            root: try c.decode(String.self, forKey: .root), app: try c.decode(String.self, forKey: .app),
            layout: try c.decodeIfPresent(FleetSpec.Layout.self, forKey: .layout) ?? .plain)
        namespace = try c.decodeIfPresent(Namespaces.Slot.self, forKey: .namespace)
        database = try c.decodeIfPresent(DatabaseHost.Account.self, forKey: .database)
    }
}

/// The texts the fleet writes: pure functions of the fleet's values, so they can be read
/// and tested without starting anything.
enum FleetLayout {
    /// sshd settings for one host. Only 127.0.0.1, only keys, only the fleet's own user.
    /// `SetEnv` gives sessions the host's own HOME (no ~/.bashrc, which Debian's bash reads
    /// for every ssh command) and PATH (the host's `systemctl` and app commands first).
    static func sshdConfig(_ host: FleetHost, authorizedKeys: String, users: [String]) -> String {
        """
        # sshd of test host \(host.name), written by fleetup's test fleet
        Port \(host.sshPort)
        ListenAddress \(host.address)
        HostKey \(host.hostKey)
        PidFile \(host.sshdPidFile)
        AuthorizedKeysFile \(authorizedKeys)
        AllowUsers \(users.joined(separator: " "))
        StrictModes no
        UsePAM no
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        AllowTcpForwarding yes
        X11Forwarding no
        PrintMotd no
        PrintLastLog no
        UseDNS no
        LogLevel VERBOSE
        Subsystem sftp internal-sftp
        SetEnv \(host.netns == nil ? "HOME=\(host.root)/home " : "")PATH=\(host.root)/bin:/usr/local/bin:/usr/bin:/bin FLEET_HOST=\(host.name) FLEET_HOST_ROOT=\(host.root)

        """
    }

    /// The host's `systemctl`: the fake app's service manager.
    /// The host's folder is written in: sudo's env_reset drops FLEET_HOST_ROOT, and a
    /// `become: true` systemctl must still find its host's units.
    static func systemctlScript(fakeApp: String, hostRoot: String) -> String {
        "#!/bin/sh\nFLEET_HOST_ROOT=\(ShellQuote.quote(hostRoot)) exec \(ShellQuote.quote(fakeApp)) systemctl \"$@\"\n"
    }

    /// The app's own command (`mattermost version`), found beside its install.
    static func appCommandScript(fakeApp: String) -> String {
        """
        #!/bin/sh
        # fake app command: `version` prints the installed version
        case "$1" in
          version|--version|-version) exec \(ShellQuote.quote(fakeApp)) version "$(cd "$(dirname "$0")/.." && pwd)" ;;
          *) echo "usage: $0 version" >&2; exit 2 ;;
        esac

        """
    }

    /// A unit of the fake `systemctl`: the folder holding its VERSION, the port it serves
    /// (none: a worker that only runs), the log it appends a line to on each start, the user
    /// it runs as (systemd's `User=`; nil: whoever starts it).
    static func unitFile(install: String, port: Int?, log: String? = nil, user: String? = nil) -> String {
        var out = "install=\(install)\n"
        if let port { out += "port=\(port)\n" }
        if let log { out += "log=\(log)\n" }
        if let user { out += "user=\(user)\n" }
        return out
    }

    /// A command on the host's PATH that is the fake app's (`bundle`, `yarn`). The host's
    /// folder is written in, as for `systemctl`: a step run as the app's user through sudo
    /// has lost FLEET_HOST_ROOT.
    static func toolScript(fakeApp: String, command: String, hostRoot: String) -> String {
        "#!/bin/sh\nFLEET_HOST_ROOT=\(ShellQuote.quote(hostRoot)) exec \(ShellQuote.quote(fakeApp)) \(command) \"$@\"\n"
    }

    /// A YAML inventory of the fleet (Ansible-compatible), hosts grouped as the fleet was.
    static func inventory(_ hosts: [FleetHost], user: String, clientKey: String, knownHosts: String, sshConfig: String? = nil) -> String {
        var groups: [String] = []
        for h in hosts where !groups.contains(h.group) { groups.append(h.group) }
        let namespaced = hosts.first?.netns != nil
        var out = """
            # Test fleet written by scripts/fleet: \(namespaced
                ? "every host in namespaces of its own (its address, sshd on port 22, its /opt, /var, /tmp, users)"
                : "every host is an sshd on 127.0.0.1, its files in its own folder").
            all:
              vars:
                ansible_user: \(yaml(user))
                ansible_ssh_private_key_file: \(yaml(clientKey))
                # fleetup exec/run: pass --known-hosts with this file (ssh_config support reads it from here)
                ansible_ssh_common_args: \(yaml("-o UserKnownHostsFile=" + knownHosts))

            """
        for (key, value, comment) in fleetVars(hosts, user: user) {
            out += "    \(key): \(value)\(comment.map { "   # " + $0 } ?? "")\n"
        }
        out += "  children:\n"
        for g in groups {
            out += "    \(g):\n      hosts:\n"
            for h in hosts where h.group == g {
                out += "        \(h.name):\n"
                for (key, value) in hostVars(h) { out += "          \(key): \(value)\n" }
                if h.behindBastion, let sshConfig {
                    // As a team's inventory says it: through the bastion its ssh_config names.
                    out +=
                        "          ansible_ssh_common_args: \(yaml("-o UserKnownHostsFile=\(knownHosts) -o ProxyJump=bastion -F \(sshConfig)"))\n"
                }
            }
        }
        return out
    }

    /// A host's own variables: its address (and, on loopback, its port and the folders the
    /// showcase playbooks use, which a namespaced host has at their real paths).
    static func hostVars(_ h: FleetHost) -> [(String, String)] {
        guard h.netns == nil else {
            // What a real inventory says of a Mattermost host: its database's name and role
            // (the password is a secret of the playbook's).
            guard let db = h.database else { return [("ansible_host", h.address)] }
            return [("ansible_host", h.address), ("db_name", db.database), ("db_user", db.role), ("db_password", yaml(db.password))]
        }
        var vars = [
            ("ansible_host", h.address), ("ansible_port", String(h.sshPort)), ("app_port", String(h.appPort)),
            ("host_root", yaml(h.root)), ("install_dir", yaml(h.installDir)),
        ]
        if h.app == FleetSpec.Layout.mattermost.app {
            vars += [
                ("backup_dir", yaml(h.onHost("/var/backups/mattermost"))), ("db_file", yaml(h.onHost("/var/lib/mattermost/mattermost.db"))),
            ]
        }
        return vars
    }

    /// What the fleet's hosts need said for every host (YAML values): on a loopback fleet laid out for a
    /// showcase playbook, what differs from a server (no sudo: the fleet runs as your own
    /// user, who owns the app's files; the hosts share this machine's /tmp).
    static func fleetVars(_ hosts: [FleetHost], user: String) -> [(String, String, String?)] {
        // A showcase playbook's app (whatever the layout: a plain one is enough for plan).
        let showcase = [FleetSpec.Layout.mattermost.app, FleetSpec.Layout.flow.app]
        guard let first = hosts.first, showcase.contains(first.app) else { return [] }
        let mattermost = first.app == FleetSpec.Layout.mattermost.app
        guard first.netns == nil else {
            guard mattermost else { return [] }
            guard first.database != nil else {
                return [("db_engine", "file", "no database host in this fleet: the \"database\" is a file, copied")]
            }
            return [("db_host", DatabaseHost.address, "the fleet's PostgreSQL, on the hosts' back-end network")]
        }
        var vars: [(String, String, String?)] = [
            ("ansible_become", "false", "loopback hosts: the fleet runs as your user; its systemctl needs no sudo"),
            ("app_user", yaml(user), "who owns the app's files on a loopback host"),
        ]
        if mattermost {
            vars += [
                ("db_engine", "file", "no PostgreSQL on a loopback host: the \"database\" is a file, copied"),
                (
                    "upload_path", yaml("{{ backup_path }}/mattermost-{{ to }}.tar.gz"),
                    "loopback hosts share this machine's /tmp: each receives its archive in its backup folder"
                ),
            ]
        }
        return vars
    }

    /// The ssh_config naming the fleet's bastion (as a team's `~/.ssh/config` would), which
    /// the inventory of the hosts behind it points to with `-F`.
    static func bastionSSHConfig(_ bastion: FleetHost, user: String, clientKey: String, knownHosts: String) -> String {
        """
        # The test fleet's bastion: the hosts behind it are reached with ProxyJump bastion.
        Host bastion
            HostName \(bastion.address)
            User \(user)
            IdentityFile \(clientKey)
            IdentitiesOnly yes
            UserKnownHostsFile \(knownHosts)

        """
    }

    /// An inventory setting `vars` on `all`, to layer after the others with `-i`.
    static func overlayInventory(_ vars: [String: String]) -> String {
        var out = "# Written by the local test fleet: variables for every host, layered last with -i.\nall:\n  vars:\n"
        for key in vars.keys.sorted() { out += "    \(key): \(yaml(vars[key]!))\n" }
        return out
    }

    /// A YAML scalar in double quotes (paths may hold spaces or colons).
    static func yaml(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}
