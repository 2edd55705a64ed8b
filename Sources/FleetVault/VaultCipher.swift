import CLibCrypto

/// ansible-vault's AES256 scheme, through OpenSSL's libcrypto (the library libssh2 already
/// links): PBKDF2-HMAC-SHA256 (10,000 rounds, the salt of the vault text) derives 80 bytes —
/// the AES-256 key, the HMAC-SHA256 key and the CTR mode's initial counter; the HMAC covers
/// the ciphertext and is checked (in constant time) before anything is decrypted; the
/// plaintext carries PKCS#7 padding to 16 bytes. The only file that touches libcrypto.
enum VaultCipher {
    static let rounds: Int32 = 10_000

    /// Why a password does not open a vault text.
    enum Refusal: Error, Equatable {
        /// The HMAC does not match: the wrong password, or a changed ciphertext.
        case hmacMismatch
        /// The HMAC matched but the padding is not PKCS#7 (a vault written wrongly).
        case badPadding
        /// libcrypto itself failed (out of memory, a missing algorithm).
        case library(String)
    }

    /// The plaintext of `ciphertext`, or why `password` does not open it.
    static func decrypt(ciphertext: [UInt8], salt: [UInt8], hmac: [UInt8], password: [UInt8]) -> Result<[UInt8], Refusal> {
        var derived = [UInt8](repeating: 0, count: 80)
        defer { wipe(&derived) }
        let ok = password.withUnsafeBytes { p in
            salt.withUnsafeBufferPointer { s in
                // An empty password is a NULL one to libcrypto (it reads NULL as "").
                PKCS5_PBKDF2_HMAC(
                    p.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(p.count), s.baseAddress, Int32(s.count), rounds,
                    EVP_sha256(), 80, &derived)
            }
        }
        guard ok == 1 else { return .failure(.library("PBKDF2 failed")) }
        let aesKey = Array(derived[0..<32]), macKey = Array(derived[32..<64]), counter = Array(derived[64..<80])
        guard let mac = hmacSHA256(key: macKey, data: ciphertext) else { return .failure(.library("HMAC-SHA256 failed")) }
        guard mac.count == hmac.count, CRYPTO_memcmp(mac, hmac, mac.count) == 0 else { return .failure(.hmacMismatch) }
        guard var padded = aes256ctr(key: aesKey, counter: counter, data: ciphertext) else {
            return .failure(.library("AES-256-CTR failed"))
        }
        // PKCS#7: the last byte says how many bytes of that value end the text (1 to 16).
        guard let n = padded.last, n >= 1, n <= 16, Int(n) <= padded.count, padded.suffix(Int(n)).allSatisfy({ $0 == n }) else {
            wipe(&padded)
            return .failure(.badPadding)
        }
        padded.removeLast(Int(n))
        return .success(padded)
    }

    private static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            data.withUnsafeBufferPointer { d in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, &out, &length)
            }
        }
        guard result != nil else { return nil }
        return Array(out.prefix(Int(length)))
    }

    private static func aes256ctr(key: [UInt8], counter: [UInt8], data: [UInt8]) -> [UInt8]? {
        guard let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_DecryptInit_ex(context, EVP_aes_256_ctr(), nil, key, counter) == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: data.count + 16)
        var written: Int32 = 0
        var total = 0
        // EVP takes int lengths: feed a huge text in pieces.
        var offset = 0
        while offset < data.count {
            let piece = min(data.count - offset, 1 << 30)
            let ok = data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    EVP_DecryptUpdate(context, o.baseAddress! + total, &written, d.baseAddress! + offset, Int32(piece))
                }
            }
            guard ok == 1 else { return nil }
            total += Int(written)
            offset += piece
        }
        let ok = out.withUnsafeMutableBufferPointer { o in EVP_DecryptFinal_ex(context, o.baseAddress! + total, &written) }
        guard ok == 1 else { return nil }
        total += Int(written)
        out.removeLast(out.count - total)
        return out
    }

    /// Overwrites key material before its memory is given back.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { OPENSSL_cleanse(base, raw.count) }
        }
    }
}
