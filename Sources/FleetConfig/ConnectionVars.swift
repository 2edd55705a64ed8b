import FleetCore

/// The privilege escalation variables (`ansible_become*`), as Ansible reads them. Jump
/// hosts, `-F` and the other ssh arguments in `ansible_ssh_common_args` are read by FleetSSH's
/// resolver with the ssh_config they belong with (see docs/ssh.md).
public struct ConnectionVars: Sendable, Hashable {
    /// `ansible_become`: run steps through sudo (or `become_method`).
    public var become: Bool
    /// `ansible_become_user` (Ansible's default is root).
    public var becomeUser: String
    /// `ansible_become_method` (Ansible's default is sudo).
    public var becomeMethod: String

    public init(_ vars: [String: VarValue]) {
        func text(_ names: String...) -> String? {
            for n in names { if let v = vars[n]?.scalarText, !v.isEmpty { return v } }
            return nil
        }
        become = vars["ansible_become"]?.boolValue ?? vars["ansible_sudo"]?.boolValue ?? false
        becomeUser = text("ansible_become_user", "ansible_sudo_user") ?? "root"
        becomeMethod = text("ansible_become_method") ?? "sudo"
    }
}

extension FleetCore.Host {
    /// Become settings from the host's variables.
    public var connectionVars: ConnectionVars { ConnectionVars(vars) }
}
