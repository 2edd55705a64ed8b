import FleetCore
import Foundation

/// The connection variables FleetCore's `ConnectionSettings` does not read yet: privilege
/// escalation (`ansible_become*`) and jump hosts (`ProxyJump` in `ansible_ssh_common_args`
/// or `ansible_ssh_extra_args`, `-J`, or fleetup's own `jump:` variable), parsed the way
/// Ansible and OpenSSH read them, for the SSH executor to use.
public struct ConnectionVars: Sendable, Hashable {
    /// `ansible_become`: run steps through sudo (or `become_method`).
    public var become: Bool
    /// `ansible_become_user` (Ansible's default is root).
    public var becomeUser: String
    /// `ansible_become_method` (Ansible's default is sudo).
    public var becomeMethod: String
    /// Jump hosts in order, as OpenSSH's `ProxyJump` lists them (`[user@]host[:port]`).
    public var jumps: [JumpHost]

    /// One hop of a ProxyJump chain.
    public struct JumpHost: Sendable, Hashable, CustomStringConvertible {
        public var user: String?
        public var host: String
        public var port: Int
        public var description: String {
            let h = host.contains(":") ? "[\(host)]" : host
            return (user.map { "\($0)@" } ?? "") + h + (port == 22 ? "" : ":\(port)")
        }
    }

    public init(_ vars: [String: VarValue]) {
        func text(_ names: String...) -> String? {
            for n in names { if let v = vars[n]?.scalarText, !v.isEmpty { return v } }
            return nil
        }
        become = vars["ansible_become"]?.boolValue ?? vars["ansible_sudo"]?.boolValue ?? false
        becomeUser = text("ansible_become_user", "ansible_sudo_user") ?? "root"
        becomeMethod = text("ansible_become_method") ?? "sudo"
        if let jump = text("jump") {
            jumps = Self.hops(jump)
        } else {
            jumps = Self.proxyJump(in: [text("ansible_ssh_common_args"), text("ansible_ssh_extra_args")]
                .compactMap { $0 }.joined(separator: " "))
        }
    }

    /// `-o ProxyJump=a,b`, `-oProxyJump=a`, `-o "ProxyJump a"`, `-J a`: the first one wins,
    /// as in ssh(1). `none` means no jump.
    static func proxyJump(in args: String) -> [JumpHost] {
        guard let words = try? Shlex.split(args) else { return [] }
        var i = 0
        while i < words.count {
            let w = words[i]
            var option: String? = nil
            if w == "-J", i + 1 < words.count { return hops(words[i + 1]) }
            if w.hasPrefix("-J") && w.count > 2 { return hops(String(w.dropFirst(2))) }
            if w == "-o", i + 1 < words.count { option = words[i + 1]; i += 1 }
            else if w.hasPrefix("-o") && w.count > 2 { option = String(w.dropFirst(2)) }
            if let option, let value = Self.value(of: "proxyjump", in: option) { return hops(value) }
            i += 1
        }
        return []
    }

    /// `Key=value` or `Key value` of an `-o` option, the key matched case-insensitively.
    private static func value(of key: String, in option: String) -> String? {
        guard let sep = option.firstIndex(where: { $0 == "=" || $0 == " " }) else { return nil }
        guard option[..<sep].lowercased() == key else { return nil }
        return String(option[option.index(after: sep)...]).trimmingCharacters(in: .whitespaces)
    }

    /// `user@host:port,host2` into hops; IPv6 hosts are written `[::1]:2222`.
    static func hops(_ text: String) -> [JumpHost] {
        guard text.lowercased() != "none" else { return [] }
        return text.split(separator: ",").compactMap { raw in
            var rest = Substring(raw.trimmingCharacters(in: .whitespaces))
            if rest.hasPrefix("ssh://") { rest = rest.dropFirst(6) }
            var user: String? = nil
            if let at = rest.lastIndex(of: "@") { user = String(rest[..<at]); rest = rest[rest.index(after: at)...] }
            var host = String(rest), port = 22
            if let (h, p) = try? HostRange.splitPort(host) { host = h; port = p ?? 22 }
            return host.isEmpty ? nil : JumpHost(user: user, host: host, port: port)
        }
    }
}

extension FleetCore.Host {
    /// Become and jump-host settings from the host's variables.
    public var connectionVars: ConnectionVars { ConnectionVars(vars) }
}
