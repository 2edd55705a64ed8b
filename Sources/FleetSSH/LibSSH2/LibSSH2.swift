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

    /// The name of a libssh2 error code (`LIBSSH2_ERROR_SOCKET_RECV`), for messages that
    /// must let an operator (or a bug report) tell failures apart.
    static func errorName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            LIBSSH2_ERROR_SOCKET_NONE: "SOCKET_NONE", LIBSSH2_ERROR_BANNER_RECV: "BANNER_RECV",
            LIBSSH2_ERROR_BANNER_SEND: "BANNER_SEND", LIBSSH2_ERROR_INVALID_MAC: "INVALID_MAC",
            LIBSSH2_ERROR_KEX_FAILURE: "KEX_FAILURE", LIBSSH2_ERROR_ALLOC: "ALLOC",
            LIBSSH2_ERROR_SOCKET_SEND: "SOCKET_SEND", LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE: "KEY_EXCHANGE_FAILURE",
            LIBSSH2_ERROR_TIMEOUT: "TIMEOUT", LIBSSH2_ERROR_HOSTKEY_INIT: "HOSTKEY_INIT",
            LIBSSH2_ERROR_HOSTKEY_SIGN: "HOSTKEY_SIGN", LIBSSH2_ERROR_DECRYPT: "DECRYPT",
            LIBSSH2_ERROR_SOCKET_DISCONNECT: "SOCKET_DISCONNECT", LIBSSH2_ERROR_PROTO: "PROTO",
            LIBSSH2_ERROR_PASSWORD_EXPIRED: "PASSWORD_EXPIRED", LIBSSH2_ERROR_FILE: "FILE",
            LIBSSH2_ERROR_METHOD_NONE: "METHOD_NONE", LIBSSH2_ERROR_AUTHENTICATION_FAILED: "AUTHENTICATION_FAILED",
            LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED: "PUBLICKEY_UNVERIFIED", LIBSSH2_ERROR_CHANNEL_OUTOFORDER: "CHANNEL_OUTOFORDER",
            LIBSSH2_ERROR_CHANNEL_FAILURE: "CHANNEL_FAILURE", LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED: "CHANNEL_REQUEST_DENIED",
            LIBSSH2_ERROR_CHANNEL_UNKNOWN: "CHANNEL_UNKNOWN", LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED: "CHANNEL_WINDOW_EXCEEDED",
            LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED: "CHANNEL_PACKET_EXCEEDED", LIBSSH2_ERROR_CHANNEL_CLOSED: "CHANNEL_CLOSED",
            LIBSSH2_ERROR_CHANNEL_EOF_SENT: "CHANNEL_EOF_SENT", LIBSSH2_ERROR_SCP_PROTOCOL: "SCP_PROTOCOL",
            LIBSSH2_ERROR_ZLIB: "ZLIB", LIBSSH2_ERROR_SOCKET_TIMEOUT: "SOCKET_TIMEOUT",
            LIBSSH2_ERROR_SFTP_PROTOCOL: "SFTP_PROTOCOL", LIBSSH2_ERROR_REQUEST_DENIED: "REQUEST_DENIED",
            LIBSSH2_ERROR_METHOD_NOT_SUPPORTED: "METHOD_NOT_SUPPORTED", LIBSSH2_ERROR_INVAL: "INVAL",
            LIBSSH2_ERROR_INVALID_POLL_TYPE: "INVALID_POLL_TYPE", LIBSSH2_ERROR_PUBLICKEY_PROTOCOL: "PUBLICKEY_PROTOCOL",
            LIBSSH2_ERROR_EAGAIN: "EAGAIN", LIBSSH2_ERROR_BUFFER_TOO_SMALL: "BUFFER_TOO_SMALL",
            LIBSSH2_ERROR_BAD_USE: "BAD_USE", LIBSSH2_ERROR_COMPRESS: "COMPRESS",
            LIBSSH2_ERROR_OUT_OF_BOUNDARY: "OUT_OF_BOUNDARY", LIBSSH2_ERROR_AGENT_PROTOCOL: "AGENT_PROTOCOL",
            LIBSSH2_ERROR_SOCKET_RECV: "SOCKET_RECV", LIBSSH2_ERROR_ENCRYPT: "ENCRYPT",
            LIBSSH2_ERROR_BAD_SOCKET: "BAD_SOCKET", LIBSSH2_ERROR_KNOWN_HOSTS: "KNOWN_HOSTS",
        ]
        return "libssh2 " + (names[code].map { "LIBSSH2_ERROR_" + $0 } ?? "error \(code)")
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
