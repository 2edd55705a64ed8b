import CLibSSH2
import FleetCore
import Foundation

/// Where public-key authentication stands: identities are tried in order, an agent's keys
/// one by one, and every refusal is remembered for the final message.
struct AuthProgress {
    enum Outcome { case blocked, done(String), failed(RemoteError) }

    var methods: [String]?
    var index = 0
    var agent: OpaquePointer?
    var agentKey: UnsafeMutablePointer<libssh2_agent_publickey>?
    var agentListed = false
    var tried: [String] = []
    var rsaRefusedByServer = false

    /// Disconnects and frees the agent handle, if any.
    mutating func release() {
        if let a = agent {
            libssh2_agent_disconnect(a)
            libssh2_agent_free(a)
        }
        agent = nil
        agentKey = nil
        agentListed = false
    }
}

extension SSHConnection {
    /// One step of authentication; call again while it answers `.blocked`.
    func advanceAuth(_ s: OpaquePointer) -> AuthProgress.Outcome {
        let user = plan.user
        let userLength = UInt32(user.utf8.count)
        if auth.methods == nil {
            guard let list = libssh2_userauth_list(s, user, userLength) else {
                if libssh2_userauth_authenticated(s) != 0 { return .done("none (the server asked for nothing)") }
                if LibSSH2.isAgain(libssh2_session_last_errno(s)) { return .blocked }
                return .failed(RemoteError(.authFailed, host: plan.hostName,
                                           "\(user)@\(plan.address): \(LibSSH2.lastError(s).message)"))
            }
            auth.methods = String(cString: list).split(separator: ",").map(String.init)
            guard auth.methods!.contains("publickey") else {
                return .failed(RemoteError(.authFailed, host: plan.hostName, """
                    \(user)@\(plan.address) accepts only \(auth.methods!.joined(separator: ", ")); \
                    fleetup authenticates with keys (publickey)
                    """))
            }
        }
        while auth.index < plan.identities.count {
            let identity = plan.identities[auth.index]
            let step: AuthProgress.Outcome?
            switch identity {
            case .key(let path, let type, let privateKey, let publicKey):
                step = tryKey(s, path: path, type: type, privateKey: privateKey, publicKey: publicKey)
            case .agent(let socket, let label):
                step = tryAgent(s, socket: socket, label: label)
            }
            if let step { return step }
            auth.release()
            auth.index += 1
        }
        return .failed(authFailure(s))
    }

    /// nil when this key was refused (go on with the next identity).
    private func tryKey(_ s: OpaquePointer, path: String, type: String, privateKey: [UInt8],
                        publicKey: String?) -> AuthProgress.Outcome? {
        let user = plan.user
        // Given no public key (length 0), libssh2 derives it from the private key on every
        // attempt; the line from the key file spares that decode.
        let publicLine = publicKey ?? ""
        let rc = privateKey.withUnsafeBufferPointer { key in
            key.withMemoryRebound(to: CChar.self) { chars in
                libssh2_userauth_publickey_frommemory(s, user, user.utf8.count, publicLine, publicLine.utf8.count,
                                                      chars.baseAddress, chars.count, nil)
            }
        }
        if LibSSH2.isAgain(rc) { return .blocked }
        if rc == 0 { return .done("key \(path) (\(type))") }
        if LibSSH2.isTransportFailure(rc) { return .failed(transportFailed(rc, while: "authenticating")) }
        if rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED {
            auth.tried.append("key \(path) (\(type)): libssh2 \(LibSSH2.runtimeVersion) cannot use it: \(LibSSH2.lastError(s).message)")
        } else {
            auth.tried.append("key \(path) (\(type)): refused")
            if type == "ssh-rsa" { auth.rsaRefusedByServer = true }
        }
        return nil
    }

    /// Tries the agent's keys one by one; nil once they are all refused.
    private func tryAgent(_ s: OpaquePointer, socket: String, label: String) -> AuthProgress.Outcome? {
        if auth.agent == nil {
            guard let a = libssh2_agent_init(s) else {
                auth.tried.append("\(label): libssh2 could not create an agent handle")
                return nil
            }
            auth.agent = a
            libssh2_agent_set_identity_path(a, socket)
            // Local UNIX socket I/O to the agent: short, and on the reactor thread by design.
            guard libssh2_agent_connect(a) == 0 else {
                auth.tried.append("\(label): cannot connect to the agent at \(socket)")
                return nil
            }
            guard libssh2_agent_list_identities(a) == 0 else {
                auth.tried.append("\(label): the agent did not list its keys")
                return nil
            }
            auth.agentListed = true
            if !nextAgentKey(label) { return nil }
        }
        guard let a = auth.agent else { return nil }
        while let key = auth.agentKey {
            let rc = libssh2_agent_userauth(a, plan.user, key)
            if LibSSH2.isAgain(rc) { return .blocked }
            let comment = key.pointee.comment.map { String(cString: $0) } ?? "key"
            let blob = [UInt8](UnsafeBufferPointer(start: key.pointee.blob, count: key.pointee.blob_len))
            let type = LibSSH2.keyType(ofBlob: blob)
            if rc == 0 { return .done("\(label) key \(comment) (\(type))") }
            if LibSSH2.isTransportFailure(rc) { return .failed(transportFailed(rc, while: "authenticating")) }
            auth.tried.append("\(label) key \(comment) (\(type)): refused")
            if type == "ssh-rsa" { auth.rsaRefusedByServer = true }
            if !nextAgentKey(label) { return nil }
        }
        return nil
    }

    /// Moves to the agent's next key; false when there is none.
    private func nextAgentKey(_ label: String) -> Bool {
        guard let a = auth.agent else { return false }
        var next: UnsafeMutablePointer<libssh2_agent_publickey>?
        let rc = libssh2_agent_get_identity(a, &next, auth.agentKey)
        if rc != 0 {
            if auth.agentKey == nil { auth.tried.append("\(label): the agent holds no keys") }
            auth.agentKey = nil
            return false
        }
        auth.agentKey = next
        return true
    }

    private func authFailure(_ s: OpaquePointer) -> RemoteError {
        var message = "\(plan.user)@\(plan.address) accepted none of the identities offered"
        if auth.tried.isEmpty {
            message += ": there were none (give ansible_ssh_private_key_file, or load a key into ssh-agent)"
        } else {
            message += ":\n  - " + auth.tried.joined(separator: "\n  - ")
        }
        let banner = libssh2_session_banner_get(s).map { String(cString: $0) } ?? ""
        if auth.rsaRefusedByServer, !LibSSH2.signsRSAWithSHA2, OpenSSHVersion(banner: banner).map({ $0 >= (8, 8) }) == true {
            message += """

                  RSA keys cannot work here: libssh2 \(LibSSH2.runtimeVersion) signs only with ssh-rsa (SHA-1), \
                which OpenSSH 8.8 and later refuse (this server: \(banner)). Use an ed25519 or ecdsa key, \
                or build fleetup against libssh2 1.11 or later (rsa-sha2-256/512).
                """
        }
        return RemoteError(.authFailed, host: plan.hostName, message)
    }
}

/// The OpenSSH version in a server banner (`SSH-2.0-OpenSSH_9.2p1 Debian-2` is 9.2).
struct OpenSSHVersion: Comparable {
    var major: Int
    var minor: Int

    init?(banner: String) {
        guard let r = banner.range(of: "OpenSSH_") else { return nil }
        let digits = banner[r.upperBound...].prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard digits.count >= 2, let a = Int(digits[0]), let b = Int(digits[1]) else { return nil }
        major = a
        minor = b
    }

    static func < (l: OpenSSHVersion, r: OpenSSHVersion) -> Bool { (l.major, l.minor) < (r.major, r.minor) }
    static func >= (l: OpenSSHVersion, r: (Int, Int)) -> Bool { (l.major, l.minor) >= r }
}
