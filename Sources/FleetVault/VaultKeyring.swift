import FleetLocal
import Foundation

/// The vault passwords of one command, each under its vault id (`default` for
/// `--vault-password-file`), in the order Ansible tries them: a text naming a vault id tries
/// that id's passwords first, then every other (Ansible's default, `vault_id_match = False`).
public struct VaultKeyring: Sendable, Hashable, CustomStringConvertible {
    struct Entry: Sendable, Hashable {
        var id: String
        var password: [UInt8]
    }

    private var entries: [Entry] = []

    /// No passwords: vault text is refused with a message saying how to give one.
    public static let none = VaultKeyring()

    public init() {}

    /// A keyring of known passwords (tests; `load` reads files and scripts).
    public init(passwords: [(id: String, password: String)]) {
        entries = passwords.map { Entry(id: $0.id, password: Array($0.password.utf8)) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The vault ids, in order (what `ping -v` and error messages may show; never a password).
    public var ids: [String] { entries.map(\.id) }

    public var description: String { "VaultKeyring(\(ids.joined(separator: ", ")))" }

    /// The text `vault` holds.
    public func decrypt(_ vault: String) throws(VaultError) -> String {
        let parsed = try VaultText(vault)
        guard !entries.isEmpty else { throw .noPasswords }
        let order = entries.filter { $0.id == parsed.vaultID } + entries.filter { $0.id != parsed.vaultID }
        for entry in order {
            switch VaultCipher.decrypt(ciphertext: parsed.ciphertext, salt: parsed.salt, hmac: parsed.hmac, password: entry.password) {
            case .success(var bytes):
                defer { VaultCipher.wipe(&bytes) }
                guard let text = String(validating: bytes, as: UTF8.self) else { throw .notText }
                return text
            case .failure(.hmacMismatch): continue
            case .failure(.badPadding): throw .malformed("its padding is wrong after decryption (not written by ansible-vault)")
            case .failure(.library(let why)): throw .password("libcrypto: \(why)")
            }
        }
        var seen = Set<String>()
        throw .noPasswordOpens(vaultID: parsed.vaultID, tried: entries.map(\.id).filter { seen.insert($0).inserted })
    }

    /// Where passwords come from, in Ansible's order: ansible.cfg's `vault_identity_list`
    /// (`ID@FILE, …`), then each `--vault-id [ID@]FILE`, then each `--vault-password-file`
    /// and ansible.cfg's `vault_password_file` (id `default`).
    public struct Sources: Sendable, Equatable {
        public var identityList: [String] = []
        public var vaultIDs: [String] = []
        public var passwordFiles: [String] = []

        public init(identityList: [String] = [], vaultIDs: [String] = [], passwordFiles: [String] = []) {
            self.identityList = identityList
            self.vaultIDs = vaultIDs
            self.passwordFiles = passwordFiles
        }

        public var isEmpty: Bool { identityList.isEmpty && vaultIDs.isEmpty && passwordFiles.isEmpty }

        /// `(id, file)` pairs in the order passwords are tried.
        public var slugs: [(id: String, file: String)] {
            (identityList + vaultIDs).map { slug in
                guard let at = slug.firstIndex(of: "@") else { return ("default", slug) }
                let id = String(slug[..<at])
                return (id.isEmpty ? "default" : id, String(slug[slug.index(after: at)...]))
            } + passwordFiles.map { ("default", $0) }
        }
    }

    /// Reads every password `sources` name: a file's text without surrounding white space,
    /// or, when the file is executable, what the script prints (a `…-client` script is run
    /// with `--vault-id ID`, as Ansible runs one). A source that gives no password is an
    /// error: a vault would otherwise fail later with a less useful message.
    public static func load(_ sources: Sources, timeout: Duration = .seconds(60)) throws(VaultError) -> VaultKeyring {
        var keyring = VaultKeyring()
        for (id, file) in sources.slugs {
            if file == "prompt" || file == "prompt_ask_vault_pass" {
                throw .password(
                    "--vault-id \(id)@prompt: fleetup does not prompt for vault passwords (it runs unattended); give a file or a script that prints it"
                )
            }
            keyring.entries.append(Entry(id: id, password: try password(from: file, id: id, timeout: timeout)))
        }
        return keyring
    }

    static func password(from file: String, id: String, timeout: Duration) throws(VaultError) -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDir) else {
            throw .password("the vault password file \(file) (vault id \(id)) does not exist")
        }
        guard !isDir.boolValue else { throw .password("the vault password file \(file) (vault id \(id)) is a folder") }
        var bytes: [UInt8]
        if FileManager.default.isExecutableFile(atPath: file) {
            bytes = try run(script: file, id: id, timeout: timeout)
            strip(&bytes, ["\r", "\n"])
            guard !bytes.isEmpty else { throw .password("the vault password script \(file) (vault id \(id)) printed no password") }
        } else {
            do { bytes = try InputFile.read(file, limit: 1 << 20) } catch {
                throw .password("cannot read the vault password file \(file): \(error.message)")
            }
            strip(&bytes, [" ", "\t", "\r", "\n", "\u{0B}", "\u{0C}"])
            guard !bytes.isEmpty else { throw .password("the vault password file \(file) (vault id \(id)) is empty") }
        }
        return bytes
    }

    private static func strip(_ bytes: inout [UInt8], _ set: [Unicode.Scalar]) {
        let drop = Set(set.map { UInt8($0.value) })
        while let last = bytes.last, drop.contains(last) { bytes.removeLast() }
        let lead = bytes.prefix { drop.contains($0) }.count
        bytes.removeFirst(lead)
    }

    /// Runs a password script (its stdin is /dev/null: fleetup runs unattended) and takes
    /// what it printed.
    private static func run(script: String, id: String, timeout: Duration) throws(VaultError) -> [UInt8] {
        let path = script.hasPrefix("/") ? script : FileManager.default.currentDirectoryPath + "/" + script
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let arguments = name.hasSuffix("-client") ? ["--vault-id", id] : []
        let process: LocalProcess
        do { process = try LocalProcess(path, arguments) } catch {
            throw .password("cannot run the vault password script \(script): \(error)")
        }
        let watched = process.watch(until: .now + timeout) { kill(process.pid, SIGKILL) }
        let exit = watched.exit
        if watched.passedDeadline {
            throw .password("the vault password script \(script) did not finish within \(timeout.components.seconds) s")
        }
        let said = exit.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        guard exit.status == 0 else {
            let how = exit.status.map { "exited with \($0)" } ?? "was ended by signal \(exit.signal ?? 0)"
            let missing = exit.status == 2 && !arguments.isEmpty ? " (it has no password for vault id \(id))" : ""
            throw .password("the vault password script \(script) \(how)\(missing)\(said.isEmpty ? "" : ": " + said)")
        }
        return Array(exit.stdout.utf8)
    }
}
