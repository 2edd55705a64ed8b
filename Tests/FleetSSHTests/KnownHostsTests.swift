import Foundation
import Testing

@testable import FleetSSH

/// An ed25519 public key blob in known_hosts form (any 51 bytes do for parsing).
private let keyA = "AAAAC3NzaC1lZDI1NTE5AAAAIGb6d1Mpb7o8r1aQ9hTvc4m8CqgG0iXbqZ6k3sC3t9YQ"
private let keyB = "AAAAC3NzaC1lZDI1NTE5AAAAIHrX0m3oQ2+v8Yt9cJmR0o7vT1x2Q8Xb7sL0aYp4n3kd"

@Suite("known_hosts: parsing and matching as OpenSSH does")
struct KnownHostsTests {
    @Test("lookup names: port 22 is bare, others are [host]:port, lower case")
    func lookupName() {
        #expect(KnownHostEntry.lookupName(host: "Web1.Example.com", port: 22) == "web1.example.com")
        #expect(KnownHostEntry.lookupName(host: "127.0.0.1", port: 2222) == "[127.0.0.1]:2222")
    }

    @Test(
        "patterns",
        arguments: [
            ("web1,web2", "web2", true),
            ("*.example.com", "a.example.com", true),
            ("*.example.com,!bad.example.com", "bad.example.com", false),  // a negation wins
            ("web?", "web1", true),
            ("web?", "web10", false),
            ("[127.0.0.1]:2222", "[127.0.0.1]:2222", true),
            ("[127.0.0.1]:2222", "127.0.0.1", false),  // port 22 entries differ
            ("127.0.0.1", "[127.0.0.1]:2222", false),
        ])
    func patterns(field: String, name: String, matches: Bool) throws {
        let entry = try #require(KnownHostEntry.parse("\(field) ssh-ed25519 \(keyA)"[...], origin: "t:1"))
        #expect(entry.matches(name) == matches)
    }

    @Test("a hashed entry matches exactly its name (HMAC-SHA1 with the salt)")
    func hashed() throws {
        let salt = Array("0123456789abcdefghij".utf8)
        let hash = Digest.hmacSHA1(key: salt, message: Array("[127.0.0.1]:2201".utf8))
        let line = "|1|\(Base64.encode(salt))|\(Base64.encode(hash)) ssh-ed25519 \(keyA)"
        let entry = try #require(KnownHostEntry.parse(line[...], origin: "t:1"))
        #expect(entry.matches("[127.0.0.1]:2201"))
        #expect(!entry.matches("[127.0.0.1]:2202"))
    }

    @Test(
        "skipped lines: blank, comments, unknown markers, bad base64, too few fields",
        arguments: [
            "", "# comment", "@weird host ssh-ed25519 \(keyA)", "host ssh-ed25519 !!!", "host ssh-ed25519",
        ])
    func skipped(line: String) {
        #expect(KnownHostEntry.parse(line[...], origin: "t:1") == nil)
    }

    @Test("markers are read")
    func markers() throws {
        #expect(try #require(KnownHostEntry.parse("@revoked * ssh-ed25519 \(keyA)"[...], origin: "t:1")).marker == .revoked)
        #expect(try #require(KnownHostEntry.parse("@cert-authority * ssh-ed25519 \(keyA)"[...], origin: "t:1")).marker == .certAuthority)
    }

    @Test("verdicts: known, changed (same type, other key), unknown (other type), revoked")
    func verdicts() throws {
        let dir = NSTemporaryDirectory() + "kh-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/known_hosts"
        try """
        # fleet
        [127.0.0.1]:2201 ssh-ed25519 \(keyA)
        @revoked [127.0.0.1]:2203 ssh-ed25519 \(keyB)

        """.write(toFile: file, atomically: true, encoding: .utf8)
        let store = KnownHostsStore(userFiles: [file], globalFiles: [])
        let a = Base64.decode(keyA)!, b = Base64.decode(keyB)!
        #expect(store.verify(host: "127.0.0.1", port: 2201, keyType: "ssh-ed25519", keyBlob: a) == .known(origin: "\(file):2"))
        guard case .changed(let known) = store.verify(host: "127.0.0.1", port: 2201, keyType: "ssh-ed25519", keyBlob: b) else {
            Issue.record("expected a changed key"); return
        }
        #expect(known.map(\.origin) == ["\(file):2"])
        #expect(store.verify(host: "127.0.0.1", port: 2201, keyType: "ecdsa-sha2-nistp256", keyBlob: b) == .unknown)
        #expect(store.verify(host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: a) == .unknown)
        #expect(store.verify(host: "127.0.0.1", port: 2203, keyType: "ssh-ed25519", keyBlob: b) == .revoked(origin: "\(file):3"))
        #expect(store.knownKeyTypes(host: "127.0.0.1", port: 2201) == ["ssh-ed25519"])

        // Recording appends a [host]:port line that a new store reads back.
        try store.record(host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: a)
        #expect(store.verify(host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: a) != .unknown)
        let reread = KnownHostsStore(userFiles: [file], globalFiles: [])
        #expect(reread.verify(host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: a) == .known(origin: "\(file):4"))
    }

    @Test(
        "lines read on bytes: CRLF lines are entries, an over-long or non-UTF-8 line is skipped, the others still count with their numbers")
    func hostileLines() throws {
        let file = NSTemporaryDirectory() + "kh-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        var bytes = Array("[127.0.0.1]:2201 ssh-ed25519 \(keyA)\r\n".utf8)
        bytes += [0xFF, 0xFE] + Array(" [127.0.0.1]:2202 ssh-ed25519 \(keyA)\n".utf8)  // not UTF-8
        bytes += Array("[127.0.0.1]:2203 ssh-ed25519 \(keyA) ".utf8) + Array(repeating: 0x41, count: 70_000) + [0x0A]  // too long
        bytes += Array(repeating: 0, count: 100_000) + [0x0A]  // what a sparse file reads as
        bytes += Array("[127.0.0.1]:2204 ssh-ed25519 \(keyB)".utf8)  // no final newline
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let store = KnownHostsStore(userFiles: [file], globalFiles: [])
        let a = Base64.decode(keyA)!, b = Base64.decode(keyB)!
        #expect(store.verify(host: "127.0.0.1", port: 2201, keyType: "ssh-ed25519", keyBlob: a) == .known(origin: "\(file):1"))
        #expect(store.verify(host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: a) == .unknown)
        #expect(store.verify(host: "127.0.0.1", port: 2203, keyType: "ssh-ed25519", keyBlob: a) == .unknown)
        #expect(store.verify(host: "127.0.0.1", port: 2204, keyType: "ssh-ed25519", keyBlob: b) == .known(origin: "\(file):5"))
    }

    @Test("recording into a file whose last line has no newline starts a new line")
    func recordAfterUnterminatedLine() throws {
        let file = NSTemporaryDirectory() + "kh-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "[127.0.0.1]:2201 ssh-ed25519 \(keyA)".write(toFile: file, atomically: true, encoding: .utf8)
        let store = KnownHostsStore(userFiles: [file], globalFiles: [])
        try store.record(host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: Base64.decode(keyB)!)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1].hasPrefix("[127.0.0.1]:2202 ssh-ed25519 "))
        let reread = KnownHostsStore(userFiles: [file], globalFiles: [])
        #expect(reread.verify(host: "127.0.0.1", port: 2201, keyType: "ssh-ed25519", keyBlob: Base64.decode(keyA)!) != .unknown)
    }

    @Test("indexed literal lines and scanned wildcard/hashed lines come back in file order")
    func indexOrder() throws {
        let salt = Array("saltsaltsaltsaltsalt".utf8)
        let hash = Digest.hmacSHA1(key: salt, message: Array("web1.example.com".utf8))
        var index = KnownHostsIndex()
        let lines = [
            "*.example.com ecdsa-sha2-nistp256 \(keyA)",  // 1: wildcard
            "web1.example.com,web2.example.com ssh-ed25519 \(keyA)",  // 2: literal
            "db1.example.com ssh-ed25519 \(keyB)",  // 3: other host
            "|1|\(Base64.encode(salt))|\(Base64.encode(hash)) ssh-rsa \(keyB)",  // 4: hashed
            "web*,!web1.example.com ssh-dss \(keyB)",  // 5: negated for web1
        ]
        for (i, l) in lines.enumerated() { index.add(try #require(KnownHostEntry.parse(l[...], origin: "t:\(i + 1)"))) }
        #expect(index.candidates("web1.example.com").map(\.origin) == ["t:1", "t:2", "t:4"])
        #expect(index.candidates("web2.example.com").map(\.origin) == ["t:1", "t:2", "t:5"])
        #expect(index.candidates("other.org").isEmpty)
    }

    @Test(
        "glob",
        arguments: [
            ("*", "", true), ("a*b", "ab", true), ("a*b", "axxb", true), ("a*b", "axxc", false),
            ("*.*", "a.b", true), ("?", "", false), ("**x", "yyx", true),
        ])
    func glob(pattern: String, text: String, expected: Bool) {
        #expect(Glob.matches(pattern, text) == expected)
    }
}
