/// One piece of ansible-vault text, taken apart: the header line
/// `$ANSIBLE_VAULT;1.1;AES256` or `$ANSIBLE_VAULT;1.2;AES256;ID`, then hex lines whose
/// bytes are three hex lines themselves — the salt, the HMAC, the ciphertext.
public struct VaultText: Sendable {
    /// `1.1` or `1.2`.
    public var version: String
    /// The vault id a 1.2 text names (nil for 1.1): which password to try first.
    public var vaultID: String?
    var salt: [UInt8]
    var hmac: [UInt8]
    var ciphertext: [UInt8]

    public static let header = "$ANSIBLE_VAULT;"

    /// Whether `text` is vault text (it starts with the header, as Ansible checks).
    public static func isVault(_ text: some StringProtocol) -> Bool { text.hasPrefix(header) }

    /// Takes `text` apart, or says what is wrong with it.
    public init(_ text: String) throws(VaultError) {
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let first = lines.first, first.hasPrefix(Self.header) else {
            throw .malformed("it does not start with \(Self.header)")
        }
        lines.removeFirst()
        let fields = first.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count >= 3 else { throw .malformed("the header \"\(first)\" lacks its version and cipher") }
        version = fields[1]
        switch version {
        case "1.1", "1.2": break
        case "1.0":
            throw .unsupported("vault format 1.0 (cipher AES) is not supported; `ansible-vault rekey` writes it as 1.1")
        default: throw .unsupported("vault format \"\(version)\" is not known (expected 1.1 or 1.2)")
        }
        guard fields[2] == "AES256" else {
            throw .unsupported("vault cipher \"\(fields[2])\" is not supported (expected AES256)")
        }
        vaultID = fields.count >= 4 && !fields[3].isEmpty ? fields[3] : nil
        guard !lines.isEmpty else { throw .malformed("nothing follows the header") }
        guard let outer = Self.unhex(lines.joined()) else { throw .malformed("its body is not hexadecimal text") }
        let parts = outer.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("its body does not hold a salt, an HMAC and a ciphertext") }
        guard let salt = Self.unhex(parts[0]), let hmac = Self.unhex(parts[1]), let ciphertext = Self.unhex(parts[2]) else {
            throw .malformed("its salt, HMAC or ciphertext is not hexadecimal")
        }
        guard !salt.isEmpty, hmac.count == 32, !ciphertext.isEmpty, ciphertext.count % 16 == 0 else {
            throw .malformed("its salt, HMAC (32 bytes) or ciphertext (a multiple of 16 bytes) has the wrong size")
        }
        self.salt = salt
        self.hmac = hmac
        self.ciphertext = ciphertext
    }

    static func unhex(_ text: String) -> [UInt8]? { unhex(Array(text.utf8)[...]) }

    static func unhex(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var high: UInt8? = nil
        for c in digits {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}

/// Why a vault text could not be opened: the message says what to do.
public enum VaultError: Error, Equatable, CustomStringConvertible {
    /// Not vault text as ansible-vault writes it.
    case malformed(String)
    /// Vault text of a version or cipher fleetup does not read.
    case unsupported(String)
    /// No vault password was given at all.
    case noPasswords
    /// None of the passwords given opens it.
    case noPasswordOpens(vaultID: String?, tried: [String])
    /// A password opened it, but what it holds is not text.
    case notText
    /// Reading a password failed (a missing file, a script that failed).
    case password(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "not valid ansible-vault text: \(why)"
        case .unsupported(let why): return why
        case .noPasswords:
            return
                "vault-encrypted, and no vault password was given (--vault-password-file FILE, --vault-id [ID@]FILE, ANSIBLE_VAULT_PASSWORD_FILE or ansible.cfg's vault_password_file)"
        case .noPasswordOpens(let id, let tried):
            let given =
                "the vault password\(tried.count == 1 ? "" : "s") given (vault id\(tried.count == 1 ? "" : "s") \(tried.joined(separator: ", ")))"
            if let id, !tried.contains(id) {
                return
                    "encrypted for vault id \"\(id)\", which has no password here (give --vault-id \(id)@FILE); \(given) do\(tried.count == 1 ? "es" : "") not open it"
            }
            return
                "\(given) do\(tried.count == 1 ? "es" : "") not open it: a wrong password, or the text was changed (its HMAC does not match)"
        case .notText: return "decrypted, but it is not UTF-8 text"
        case .password(let why): return why
        }
    }
}
