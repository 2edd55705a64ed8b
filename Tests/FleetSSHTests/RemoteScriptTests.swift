import FleetCore
import Testing

@testable import FleetSSH

@Suite("the pid line in front of every command's stdout")
struct RemoteScriptTests {
    private func feed(_ chunks: [String]) -> (pid: Int32?, output: String) {
        var line = RemoteScript.PidLine()
        var out: [UInt8] = []
        for c in chunks {
            let bytes = Array(c.utf8)
            out += bytes.withUnsafeBytes { line.consume($0) }
        }
        out += line.flush()
        return (line.pid, String(decoding: out, as: UTF8.self))
    }

    @Test("split across chunks, the pid is taken and the rest is output")
    func split() {
        let r = feed(["12", "34\nhel", "lo\n"])
        #expect(r.pid == 1234)
        #expect(r.output == "hello\n")
    }

    @Test("a line that is not a pid is kept as output (nothing is lost)")
    func notAPid() {
        let r = feed(["hello\nworld\n"])
        #expect(r.pid == nil)
        #expect(r.output == "hello\nworld\n")
    }

    @Test("more than 32 bytes without a newline is output")
    func tooLong() {
        let long = String(repeating: "x", count: 40)
        let r = feed([long])
        #expect(r.pid == nil)
        #expect(r.output == long)
    }

    @Test("a stream that ends before the newline hands back what it held")
    func endsEarly() {
        let r = feed(["123"])
        #expect(r.pid == nil)
        #expect(r.output == "123")
    }

    @Test("the wrapper puts the exact script after the pid line, unquoted")
    func wrapper() {
        #expect(RemoteScript.announcingPid("echo 'a b'") == #"printf '%s\n' "$$""# + "\necho 'a b'")
        #expect(RemoteScript.killGroup(42).hasPrefix("kill -s TERM -- -42"))
    }
}

@Suite("private key files and server versions")
struct KeyFileTests {
    @Test("PEM headers say type and encryption")
    func pem() throws {
        let rsa = try #require(
            PrivateKeyFile(Array("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nabc\n-----END RSA PRIVATE KEY-----\n".utf8)))
        #expect(rsa.format == .pem)
        #expect(rsa.type == "ssh-rsa")
        #expect(rsa.encrypted)
        let ec = try #require(PrivateKeyFile(Array("-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----\n".utf8)))
        #expect(ec.type == "ecdsa")
        #expect(!ec.encrypted)
    }

    @Test("things that are not private keys", arguments: ["", "ssh-ed25519 AAAA comment", "-----BEGIN CERTIFICATE-----\n"])
    func notKeys(text: String) {
        #expect(PrivateKeyFile(Array(text.utf8)) == nil)
    }

    @Test(
        "OpenSSH versions from banners",
        arguments: [
            ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", 9, 2),
            ("SSH-2.0-OpenSSH_8.8", 8, 8),
            ("SSH-2.0-OpenSSH_7.4", 7, 4),
        ])
    func openSSH(banner: String, major: Int, minor: Int) throws {
        let v = try #require(OpenSSHVersion(banner: banner))
        #expect(v.major == major && v.minor == minor)
    }

    @Test("non-OpenSSH banners have no version")
    func otherServers() {
        #expect(OpenSSHVersion(banner: "SSH-2.0-dropbear_2022.83") == nil)
    }
}
