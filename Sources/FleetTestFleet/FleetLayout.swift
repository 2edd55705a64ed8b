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
    /// A namespaced host (`FleetSpec.namespaces`): its network namespace and address (sshd
    /// on port 22 there). Nil: sshd on 127.0.0.1 at `sshPort`.
    var namespace: Namespaces.Slot?

    /// The address sshd listens on.
    public var address: String { namespace?.hostAddress ?? "127.0.0.1" }
    /// The host's network namespace, when it has one.
    public var netns: String? { namespace?.netns }

    /// Where the app lives: `opt/APP`, or the Flow checkout `home/flow/live`.
    public var installDir: String {
        layout == .flow ? "\(root)/home/flow/live" : "\(root)/opt/\(app)"
    }
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
    public var sshdConfig: String { "\(root)/sshd_config" }
    public var sshdPidFile: String { "\(root)/sshd.pid" }
    public var sshdLog: String { "\(root)/sshd.log" }
    public var hostKey: String { "\(root)/ssh_host_ed25519_key" }

    private enum CodingKeys: String, CodingKey {
        case name, group, sshPort, appPort, root, app, layout, namespace
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
    /// (none: a worker that only runs), the log it appends a line to on each start.
    static func unitFile(install: String, port: Int?, log: String? = nil) -> String {
        var out = "install=\(install)\n"
        if let port { out += "port=\(port)\n" }
        if let log { out += "log=\(log)\n" }
        return out
    }

    /// A command on the host's PATH that is the fake app's (`bundle`, `yarn`).
    static func toolScript(fakeApp: String, command: String) -> String {
        "#!/bin/sh\nexec \(ShellQuote.quote(fakeApp)) \(command) \"$@\"\n"
    }

    /// A YAML inventory of the fleet (Ansible-compatible), hosts grouped as the fleet was.
    static func inventory(_ hosts: [FleetHost], user: String, clientKey: String, knownHosts: String) -> String {
        var groups: [String] = []
        for h in hosts where !groups.contains(h.group) { groups.append(h.group) }
        var out = """
            # Local test fleet written by scripts/fleet: every host is an sshd on 127.0.0.1.
            all:
              vars:
                ansible_user: \(yaml(user))
                ansible_ssh_private_key_file: \(yaml(clientKey))
                # fleetup exec/run: pass --known-hosts with this file (ssh_config support reads it from here)
                ansible_ssh_common_args: \(yaml("-o UserKnownHostsFile=" + knownHosts))
              children:

            """
        for g in groups {
            out += "    \(g):\n      hosts:\n"
            for h in hosts where h.group == g {
                out += """
                            \(h.name):
                              ansible_host: \(h.address)
                              ansible_port: \(h.sshPort)
                              app_port: \(h.appPort)
                              host_root: \(yaml(h.root))
                              install_dir: \(yaml(h.installDir))

                    """
            }
        }
        return out
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
