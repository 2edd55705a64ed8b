import FleetCore
import FleetLocal
import Foundation

/// Turns a host's identity settings into `Identity` values, reading each key file once
/// per run and decrypting each encrypted key once (into fleetup's private agent).
actor IdentityResolver {
    private let configuration: SSHConfiguration
    private var keys: [String: Result<Identity, RemoteError>] = [:]
    private var loading: [String: Task<Result<Identity, RemoteError>, Never>] = [:]
    private var agent: PrivateAgent?
    /// How many keys were decrypted (tests check it stays 1 for a whole fleet).
    private(set) var decryptions = 0

    init(configuration: SSHConfiguration) {
        self.configuration = configuration
    }

    /// As OpenSSH: the user's ssh-agent first (its copies of this host's key files before
    /// its other keys, see `tryAgent`), then the key files: explicit ones (a missing or
    /// unreadable one is an error), or the default ones that exist when none was given.
    /// IdentitiesOnly leaves the agent out.
    func identities(for settings: ConnectionSettings) async throws -> [Identity] {
        var out: [Identity] = []
        let socket = settings.identityAgent.map(expandTilde) ?? configuration.agentSocket
        if !settings.identitiesOnly, let socket, !socket.isEmpty, socket.lowercased() != "none" {
            out.append(.agent(socket: socket, label: "ssh-agent (\(socket))"))
        }
        // A key file that cannot be used (encrypted with no passphrase given, unreadable) is
        // skipped, with its reason kept for the failure message, as long as something else can
        // be tried: ssh_config's `Host *` IdentityFile must not sink hosts the agent serves.
        // With nothing else to try, its problem is the host's error.
        let explicit = settings.identityFiles.map(expandTilde)
        var problems: [RemoteError] = []
        for path in explicit {
            switch await load(path, host: settings.hostName) {
            case .success(let id): out.append(id)
            case .failure(let e):
                problems.append(e)
                out.append(.unusable(path: path, why: e.message))
            }
        }
        if let first = problems.first, !out.contains(where: \.isUsable) { throw first }
        if explicit.isEmpty {
            for path in configuration.defaultIdentityFiles.map(expandTilde)
            where FileManager.default.fileExists(atPath: path) {
                if case .success(let id) = await load(path, host: settings.hostName) { out.append(id) }
            }
        }
        return out
    }

    func shutdown() {
        agent?.stop()
        agent = nil
    }

    /// The identity for a key file; the first caller reads (and maybe decrypts) it, later
    /// callers for the same path wait for that result.
    private func load(_ path: String, host: String) async -> Result<Identity, RemoteError> {
        if let cached = keys[path] { return cached }
        if let pending = loading[path] { return await pending.value }
        let task = Task { await self.read(path, host: host) }
        loading[path] = task
        let result = await task.value
        keys[path] = result
        loading[path] = nil
        return result
    }

    private func read(_ path: String, host: String) async -> Result<Identity, RemoteError> {
        do {
            return .success(try await readKey(path, host: host))
        } catch let error as RemoteError {
            return .failure(error)
        } catch {
            return .failure(RemoteError(.keyProblem, host: host, "\(path): \(error)"))
        }
    }

    private func readKey(_ path: String, host: String) async throws -> Identity {
        // A private key is a few KB; `--private-key /dev/zero` once read forever.
        let bytes: [UInt8]
        do { bytes = try InputFile.read(path, limit: 1 << 20) } catch {
            let why = error.kind == .missing ? "does not exist" : error.kind == .unreadable ? "cannot be read" : error.message
            throw RemoteError(.keyProblem, host: host, "identity file \(path) \(why)")
        }
        guard let info = PrivateKeyFile(bytes) else {
            throw RemoteError(
                .keyProblem, host: host, "identity file \(path) is not a private key (expected an OpenSSH or PEM private key)")
        }
        guard info.encrypted else {
            return .key(path: path, type: info.type, privateKey: bytes, publicKey: info.publicKeyLine)
        }
        guard let passphrase = configuration.passphrase(path) else {
            throw RemoteError(
                .keyProblem, host: host,
                """
                identity file \(path) is encrypted: set FLEETUP_SSH_PASSPHRASE, run from a terminal to be asked, \
                or load it into ssh-agent
                """)
        }
        let privateAgent: PrivateAgent
        do {
            if agent == nil { agent = try await Blocking.run("fleetup-agent") { try PrivateAgent() } }
            privateAgent = agent!
            try await Blocking.run("fleetup-ssh-add") { try privateAgent.add(path, passphrase: passphrase) }
        } catch {
            throw RemoteError(.keyProblem, host: host, "\(error)")
        }
        decryptions += 1
        return .agent(socket: privateAgent.socket, label: "key \(path) (\(info.type), decrypted once into fleetup's agent)")
    }

    private func expandTilde(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + String(path.dropFirst())
    }
}

/// An async counting semaphore (FIFO), for the cap on simultaneous handshakes.
actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { available = max(1, count) }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
