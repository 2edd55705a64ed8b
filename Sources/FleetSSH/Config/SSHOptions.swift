/// The options one ssh run collects for one destination, OpenSSH's way: the first value
/// obtained for a keyword wins, whatever comes later (IdentityFile adds up instead);
/// command-line options come first, then the files in order. Each value remembers the
/// line that set it, for messages.
struct SSHOptions: Sendable, Hashable {
    struct Valued<T: Sendable & Hashable>: Sendable, Hashable {
        var value: T
        var origin: SSHConfigOrigin
    }

    struct IdentityFile: Sendable, Hashable {
        var path: String
        /// Named by the inventory, a flag or the host's ssh arguments (not by an ssh_config
        /// file): such a file must exist; a missing one from ssh_config is skipped, as ssh does.
        var explicit: Bool
        var origin: SSHConfigOrigin
    }

    /// How the destination is reached, when not directly.
    enum Proxy: Sendable, Hashable {
        case jump(SSHJumpSpec)
        /// As written; `none` means a direct connection.
        case command(String)
    }

    var hostName: Valued<String>?
    var port: Valued<Int>?
    var user: Valued<String>?
    var identityFiles: [IdentityFile] = []
    var identitiesOnly: Valued<Bool>?
    var identityAgent: Valued<String>?
    /// ProxyJump and ProxyCommand, as ssh 9.2 keeps them: a ProxyJump is taken only while
    /// neither is set, and one that names hops sets ProxyCommand to `none` (so a later
    /// ProxyCommand is ignored); `ProxyJump none` leaves a later ProxyCommand free to apply.
    var jump: Valued<SSHJumpSpec>?
    var proxyCommand: Valued<String>?

    /// What applies: the jump hops, else a ProxyCommand other than `none`.
    var proxy: Valued<Proxy>? {
        if let j = jump, case .hops = j.value { return Valued(value: .jump(j.value), origin: j.origin) }
        if let c = proxyCommand, c.value.lowercased() != "none" { return Valued(value: .command(c.value), origin: c.origin) }
        if let j = jump { return Valued(value: .jump(j.value), origin: j.origin) }
        return proxyCommand.map { Valued(value: .command($0.value), origin: $0.origin) }
    }
    var userKnownHostsFiles: Valued<[String]>?
    var globalKnownHostsFiles: Valued<[String]>?
    var strictHostKeyChecking: Valued<StrictHostKeyChecking>?
    var connectTimeout: Valued<Int>?
    var serverAliveInterval: Valued<Int>?
    var serverAliveCountMax: Valued<Int>?
    var hostKeyAlias: Valued<String>?
    var canonicalizeHostname: Bool?

    /// Sets what is not set yet.
    mutating func apply(_ setting: SSHSetting, origin: SSHConfigOrigin, explicit: Bool = false) {
        func first<T>(_ slot: inout Valued<T>?, _ value: T) { if slot == nil { slot = Valued(value: value, origin: origin) } }
        switch setting {
        case .hostName(let v): first(&hostName, v)
        case .port(let v): first(&port, v)
        case .user(let v): first(&user, v)
        case .identityFile(let path):
            // OpenSSH drops an exact repeat.
            if !identityFiles.contains(where: { $0.path == path }) {
                identityFiles.append(IdentityFile(path: path, explicit: explicit, origin: origin))
            }
        case .identitiesOnly(let v): first(&identitiesOnly, v)
        case .identityAgent(let v): first(&identityAgent, v)
        case .proxyJump(let v):
            guard jump == nil, proxyCommand == nil else { break }
            jump = Valued(value: v, origin: origin)
            if case .hops = v { proxyCommand = Valued(value: "none", origin: origin) }
        case .proxyCommand(let v): first(&proxyCommand, v)
        case .userKnownHostsFiles(let v): first(&userKnownHostsFiles, v)
        case .globalKnownHostsFiles(let v): first(&globalKnownHostsFiles, v)
        case .strictHostKeyChecking(let v): first(&strictHostKeyChecking, v)
        case .connectTimeout(let v): first(&connectTimeout, v)
        case .serverAliveInterval(let v): first(&serverAliveInterval, v)
        case .serverAliveCountMax(let v): first(&serverAliveCountMax, v)
        case .hostKeyAlias(let v): first(&hostKeyAlias, v)
        case .canonicalizeHostname(let v): if canonicalizeHostname == nil { canonicalizeHostname = v }
        case .ignoreUnknown: break
        }
    }
}
