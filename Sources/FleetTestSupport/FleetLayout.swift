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

    public var installDir: String { "\(root)/opt/\(app)" }
    public var controlDir: String { "\(root)/control" }
    public var sshdConfig: String { "\(root)/sshd_config" }
    public var sshdPidFile: String { "\(root)/sshd.pid" }
    public var sshdLog: String { "\(root)/sshd.log" }
    public var hostKey: String { "\(root)/ssh_host_ed25519_key" }
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
        ListenAddress 127.0.0.1
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
        SetEnv HOME=\(host.root)/home PATH=\(host.root)/bin:/usr/local/bin:/usr/bin:/bin FLEET_HOST=\(host.name) FLEET_HOST_ROOT=\(host.root)

        """
    }

    /// The host's `systemctl`: the fake app's service manager.
    static func systemctlScript(fakeApp: String) -> String {
        "#!/bin/sh\nexec \(ShellQuote.quote(fakeApp)) systemctl \"$@\"\n"
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

    static func unitFile(_ host: FleetHost) -> String {
        "install=\(host.installDir)\nport=\(host.appPort)\n"
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
                          ansible_host: 127.0.0.1
                          ansible_port: \(h.sshPort)
                          app_port: \(h.appPort)
                          host_root: \(yaml(h.root))
                          install_dir: \(yaml(h.installDir))

                """
            }
        }
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
