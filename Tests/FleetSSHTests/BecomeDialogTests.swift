import Testing

@testable import FleetSSH

@Suite("the sudo conversation of a become command")
struct BecomeDialogTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test("a prompt split across reads is answered once; the marker lets output through")
    func happyPath() {
        var d = BecomeDialog(nonce: "n1", hasPassword: true)
        #expect(d.stderr(bytes("[fleetup-bec")).events == [])
        #expect(d.stderr(bytes("ome:n1] ")).events == [.sendPassword])
        let out = d.stdout(bytes("fleetup-become-ok:n1\nroot\n"))
        #expect(out.events == [.succeeded])
        #expect(out.output == bytes("root\n"))
        #expect(d.stdout(bytes("more\n")).output == bytes("more\n"))
        #expect(d.releaseStderr().isEmpty)  // the prompt never reaches the captured stderr
    }

    @Test("a second prompt means the password was refused; no password means it is needed")
    func refusals() {
        var wrong = BecomeDialog(nonce: "n2", hasPassword: true)
        #expect(wrong.stderr(bytes("[fleetup-become:n2] ")).events == [.sendPassword])
        #expect(wrong.stderr(bytes("Sorry, try again.\n[fleetup-become:n2] ")).events == [.wrongPassword])
        #expect(wrong.finish().stderr == bytes("Sorry, try again.\n"))
        var none = BecomeDialog(nonce: "n3", hasPassword: false)
        #expect(none.stderr(bytes("[fleetup-become:n3] ")).events == [.needsPassword])
    }

    @Test("sudo's own errors before the marker are kept for the message")
    func sudoErrors() {
        var d = BecomeDialog(nonce: "n4", hasPassword: false)
        _ = d.stderr(bytes("alice is not in the sudoers file.\n"))
        #expect(!d.succeeded)
        #expect(d.finish().stderr == bytes("alice is not in the sudoers file.\n"))
    }

    @Test("the wrapper quotes user, prompt and script; the password is never in it")
    func wrapper() {
        let d = BecomeDialog(nonce: "abc", hasPassword: true)
        let line = d.wrap("echo 'it''s'; rm -rf \"$x\"", user: "app user")
        #expect(line.hasPrefix("exec sudo -H -S -p '[fleetup-become:abc] ' -u 'app user' -- /bin/sh -c "))
        #expect(line.hasSuffix(" fleetup-become 'echo '\\''it'\\'''\\''s'\\''; rm -rf \"$x\"'"))
    }
}
