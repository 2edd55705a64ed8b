import Foundation

/// What a private key file is, read from its unencrypted parts: the algorithm and
/// whether a passphrase protects it. Nothing is decrypted here.
struct PrivateKeyFile: Equatable {
    enum Format: Equatable { case openssh, pem, pkcs8 }

    var format: Format
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, … or `unknown` (PKCS#8).
    var type: String
    var encrypted: Bool
    /// The public key as an `authorized_keys` line (`ssh-ed25519 AAAA…`), when the file
    /// carries it in the clear (OpenSSH format). Handing it to libssh2 spares it deriving
    /// the public key from the private one on every connection (an OpenSSL 3 PEM decode,
    /// ~0.4 ms each).
    var publicKeyLine: String?

    /// nil when the text is not a private key fleetup knows.
    init?(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.first(where: { $0.hasPrefix("-----BEGIN ") }) else { return nil }
        switch begin {
        case "-----BEGIN OPENSSH PRIVATE KEY-----":
            let body = lines.drop { $0 != begin }.dropFirst().prefix { !$0.hasPrefix("-----END") }.joined()
            guard let blob = Base64.decode(body), let parsed = PrivateKeyFile.parseOpenSSH(blob) else { return nil }
            self.format = .openssh
            self.type = parsed.type
            self.encrypted = parsed.cipher != "none"
            self.publicKeyLine = parsed.type + " " + Base64.encode(parsed.publicKey) + "\n"
        case "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----":
            self.format = .pem
            self.type = begin.contains("RSA") ? "ssh-rsa" : begin.contains("EC ") ? "ecdsa" : "ssh-dss"
            self.encrypted = lines.contains { $0.hasPrefix("Proc-Type:") && $0.contains("ENCRYPTED") }
        case "-----BEGIN PRIVATE KEY-----":
            self.format = .pkcs8
            self.type = "unknown"
            self.encrypted = false
        case "-----BEGIN ENCRYPTED PRIVATE KEY-----":
            self.format = .pkcs8
            self.type = "unknown"
            self.encrypted = true
        default:
            return nil
        }
    }

    /// "openssh-key-v1\0", cipher name, KDF name, KDF options, key count, first public key.
    private static func parseOpenSSH(_ blob: [UInt8]) -> (cipher: String, type: String, publicKey: [UInt8])? {
        let magic = Array("openssh-key-v1".utf8) + [0]
        guard blob.starts(with: magic) else { return nil }
        var reader = SSHReader(blob[magic.count...])
        guard let cipher = reader.string(), reader.string() != nil, reader.string() != nil,
            let count = reader.uint32(), count >= 1, let publicKey = reader.string()
        else { return nil }
        var inner = SSHReader(publicKey[...])
        guard let type = inner.string() else { return nil }
        return (String(decoding: cipher, as: UTF8.self), String(decoding: type, as: UTF8.self), publicKey)
    }
}

/// Reads SSH wire-format fields (RFC 4251: uint32, string).
struct SSHReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func uint32() -> UInt32? {
        guard bytes.count >= 4 else { return nil }
        let b = bytes.startIndex
        let v = UInt32(bytes[b]) << 24 | UInt32(bytes[b + 1]) << 16 | UInt32(bytes[b + 2]) << 8 | UInt32(bytes[b + 3])
        bytes = bytes.dropFirst(4)
        return v
    }

    mutating func string() -> [UInt8]? {
        guard let n = uint32(), bytes.count >= Int(n) else { return nil }
        let s = Array(bytes.prefix(Int(n)))
        bytes = bytes.dropFirst(Int(n))
        return s
    }
}
