import CLibSSH2
import Foundation

/// Process-wide libssh2 facts and helpers. libssh2 pointers never leave this folder.
enum LibSSH2 {
    /// `libssh2_init` once per process (it initialises the crypto backend).
    static let initialized: Bool = libssh2_init(0) == 0

    /// The libssh2 this process runs with (`1.10.0`).
    static let runtimeVersion: String = String(cString: libssh2_version(0))

    /// RSA signatures with SHA-2 (rsa-sha2-256/512) arrived in libssh2 1.11; OpenSSH 8.8
    /// and later refuse the old SHA-1 `ssh-rsa` signatures that 1.10 makes.
    static var signsRSAWithSHA2: Bool {
        let parts = runtimeVersion.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return parts[0] > 1 || (parts[0] == 1 && parts[1] >= 11)
    }

    static func isAgain(_ rc: Int32) -> Bool { rc == LIBSSH2_ERROR_EAGAIN }
    static func isAgain(_ rc: Int) -> Bool { rc == Int(LIBSSH2_ERROR_EAGAIN) }

    /// True for errors that mean the transport itself is gone (every channel with it).
    static func isTransportFailure(_ rc: Int32) -> Bool {
        switch rc {
        case LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
             LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_DECRYPT,
             LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND, LIBSSH2_ERROR_KEX_FAILURE,
             LIBSSH2_ERROR_BAD_USE:
            return true
        default:
            return false
        }
    }

    /// libssh2's own words for the session's last error (`Unable to exchange encryption keys`).
    static func lastError(_ session: OpaquePointer) -> (code: Int32, message: String) {
        var msg: UnsafeMutablePointer<CChar>?
        var len: Int32 = 0
        let code = libssh2_session_last_error(session, &msg, &len, 0)
        let text = msg.map { String(cString: $0) } ?? "error \(code)"
        return (code, text)
    }

    /// The host key algorithms this libssh2 can verify, in its default preference order.
    static func supportedHostKeyAlgorithms(_ session: OpaquePointer) -> [String] {
        var algs: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let n = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs)
        guard n > 0, let algs else { return [] }
        defer { libssh2_free(session, algs) }
        return (0..<Int(n)).compactMap { algs[$0].map { String(cString: $0) } }
    }

    /// The first SSH string of a key blob: its algorithm name (`ssh-ed25519`).
    static func keyType(ofBlob blob: [UInt8]) -> String {
        guard blob.count >= 4 else { return "unknown" }
        let n = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard n > 0, blob.count >= 4 + n else { return "unknown" }
        return String(decoding: blob[4..<4 + n], as: UTF8.self)
    }
}
