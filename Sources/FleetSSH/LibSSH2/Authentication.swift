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
    /// The agent's keys in the order they are offered, and the next one to offer.
    var agentKeys: [UnsafeMutablePointer<libssh2_agent_publickey>]?
    var agentIndex = 0
    /// Public key blobs already offered, so a key file also held by the agent is not
    /// offered twice (each offer counts against the server's MaxAuthTries).
    var offered: Set<[UInt8]> = []
    var tried: [String] = []
    var rsaRefusedByServer = false

    /// Disconnects and frees the agent handle, if any.
    mutating func release() {
        if let a = agent {
            libssh2_agent_disconnect(a)
            libssh2_agent_free(a)
        }
        agent = nil
        agentKeys = nil
        agentIndex = 0
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
                return .failed(
                    RemoteError(
                        .authFailed, host: plan.hostName,
                        "\(user)@\(plan.address): \(LibSSH2.lastError(s).message)"))
            }
            auth.methods = String(cString: list).split(separator: ",").map(String.init)
            guard auth.methods!.contains("publickey") else {
                return .failed(
                    RemoteError(
                        .authFailed, host: plan.hostName,
                        """
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
            case .unusable(_, let why):
                auth.tried.append(why)
                step = nil
            }
            if let step { return step }
            auth.release()
            auth.index += 1
        }
        return .failed(authFailure(s))
    }

    /// nil when this key was refused (go on with the next identity).
    private func tryKey(
        _ s: OpaquePointer, path: String, type: String, privateKey: [UInt8],
        publicKey: String?
    ) -> AuthProgress.Outcome? {
        let user = plan.user
        let blob = publicKey.flatMap(Self.blob(ofPublicKeyLine:))
        if let blob, auth.offered.contains(blob) { return nil }  // already offered by the agent
        let name = "key \(path) (\(type)\(blob.map { " " + Digest.fingerprint(ofKeyBlob: $0) } ?? ""))"
        // Given no public key (length 0), libssh2 derives it from the private key on every
        // attempt; the line from the key file spares that decode.
        let publicLine = publicKey ?? ""
        let rc = privateKey.withUnsafeBufferPointer { key in
            key.withMemoryRebound(to: CChar.self) { chars in
                libssh2_userauth_publickey_frommemory(
                    s, user, user.utf8.count, publicLine, publicLine.utf8.count,
                    chars.baseAddress, chars.count, nil)
            }
        }
        if LibSSH2.isAgain(rc) { return .blocked }
        if let blob { auth.offered.insert(blob) }
        if rc == 0 { return .done(name) }
        if LibSSH2.isTransportFailure(rc) { return .failed(transportFailed(rc, while: "authenticating")) }
        if rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED {
            auth.tried.append("\(name): libssh2 \(LibSSH2.runtimeVersion) cannot use it: \(LibSSH2.lastError(s).message)")
        } else {
            auth.tried.append("\(name): refused")
            if type == "ssh-rsa" { auth.rsaRefusedByServer = true }
        }
        return nil
    }

    /// The blob of an `authorized_keys`-style line (`ssh-ed25519 AAAA… comment`).
    static func blob(ofPublicKeyLine line: String) -> [UInt8]? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields.count >= 2 ? Base64.decode(fields[1]) : nil
    }

    /// Blobs of the key files this host names, in order: the agent's copies of these go first.
    private var fileBlobs: [[UInt8]] {
        plan.identities.compactMap { identity in
            if case .key(_, _, _, let publicKey) = identity { return publicKey.flatMap(Self.blob(ofPublicKeyLine:)) }
            return nil
        }
    }

    /// Tries the agent's keys one by one, as OpenSSH orders them: those that are also key
    /// files of this host first (in the files' order), then the others; nil once all were refused.
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
            auth.agentKeys = orderedAgentKeys(a)
            if auth.agentKeys!.isEmpty { auth.tried.append("\(label): the agent holds no keys") }
        }
        guard let a = auth.agent, let keys = auth.agentKeys else { return nil }
        while auth.agentIndex < keys.count {
            let key = keys[auth.agentIndex]
            let blob = [UInt8](UnsafeBufferPointer(start: key.pointee.blob, count: key.pointee.blob_len))
            if auth.offered.contains(blob) { auth.agentIndex += 1; continue }
            let rc = libssh2_agent_userauth(a, plan.user, key)
            if LibSSH2.isAgain(rc) { return .blocked }
            auth.offered.insert(blob)
            auth.agentIndex += 1
            let comment = key.pointee.comment.map { String(cString: $0) } ?? "key"
            let type = LibSSH2.keyType(ofBlob: blob)
            let name = "\(label) key \(comment) (\(type) \(Digest.fingerprint(ofKeyBlob: blob)))"
            if rc == 0 { return .done(name) }
            if LibSSH2.isTransportFailure(rc) { return .failed(transportFailed(rc, while: "authenticating")) }
            auth.tried.append("\(name): refused")
            if type == "ssh-rsa" { auth.rsaRefusedByServer = true }
        }
        return nil
    }

    /// Every key the agent listed: the host's own key files' first, then the rest in the
    /// agent's order.
    private func orderedAgentKeys(_ a: OpaquePointer) -> [UnsafeMutablePointer<libssh2_agent_publickey>] {
        var all: [UnsafeMutablePointer<libssh2_agent_publickey>] = []
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        while true {
            var next: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(a, &next, previous) == 0, let key = next else { break }
            all.append(key)
            previous = key
        }
        let files = fileBlobs
        func rank(_ k: UnsafeMutablePointer<libssh2_agent_publickey>) -> Int {
            let blob = [UInt8](UnsafeBufferPointer(start: k.pointee.blob, count: k.pointee.blob_len))
            return files.firstIndex(of: blob) ?? files.count
        }
        return all.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
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
