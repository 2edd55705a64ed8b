import FleetCore
import Testing

@testable import FleetSSH

/// The persistent shell's framing as pure values: what the driver writes around each
/// command, cut at every possible place, gives back exactly the command's own bytes.
@Suite("the persistent shell's framing")
struct RemoteShellTests {
    static let nonce = "n0nce42"
    static let rs = "\u{1E}"

    /// What the driver writes on stdout for a command with output `body` and `status`,
    /// after `stray` bytes from an earlier command's background process.
    static func stdout(_ body: String, pid: Int32 = 4242, status: Int32 = 0, stray: String = "") -> [UInt8] {
        Array("\(stray)\(rs)S\(nonce)\n\(pid)\n\(body)\n\(rs)E\(nonce) \(status)\n".utf8)
    }

    /// The bytes through a frame in chunks of `size` (the last one shorter).
    static func feed(_ bytes: [UInt8], chunk size: Int, pid: Bool) -> (frame: RemoteShell.Frame, output: String) {
        var frame = RemoteShell.Frame(nonce: nonce, announcesPid: pid)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let part = Array(bytes[i..<min(bytes.count, i + size)])
            out += part.withUnsafeBytes { frame.consume($0) }
            i += size
        }
        return (frame, String(decoding: out, as: UTF8.self))
    }

    @Test(
        "any output, in any chunking: the body exactly, the pid, the status",
        arguments: [
            "", "x", "line\n", "no newline at the end", "\n\n", "two\nlines\n", "ends with a lone \\n\n",
            "looks like a mark: \n\u{1E}Eotherno 3\n and \u{1E}Sn0nce4 and \n\u{1E}En0nce4",
            String(repeating: "ab\n", count: 3000), "héllo ✓ 🚀\n",
        ])
    func roundTrip(body: String) {
        let bytes = Self.stdout(body, pid: 31337, status: 3, stray: "left over by a background job\n")
        for size in [1, 2, 3, 7, 64, 4096, bytes.count] {
            let (frame, output) = Self.feed(bytes, chunk: size, pid: true)
            #expect(output == body, "chunks of \(size)")
            #expect(frame.ended)
            #expect(frame.pid == 31337)
            #expect(frame.trailer == "3")
        }
    }

    @Test("stderr: no pid line, no status; bytes after the end mark are dropped")
    func stderr() {
        let bytes = Array("junk\(Self.rs)S\(Self.nonce)\nerr1\nerr2\(Self.rs)\n\(Self.rs)E\(Self.nonce)\nafter\n".utf8)
        for size in [1, 5, bytes.count] {
            let (frame, output) = Self.feed(bytes, chunk: size, pid: false)
            #expect(output == "err1\nerr2\(Self.rs)")
            #expect(frame.ended)
            #expect(frame.pid == nil)
        }
    }

    @Test("output is passed on as it comes: only a tail that could begin the end mark waits")
    func streaming() {
        var frame = RemoteShell.Frame(nonce: Self.nonce, announcesPid: true)
        var out = Array("\(Self.rs)S\(Self.nonce)\n77\nstarted\n".utf8).withUnsafeBytes { frame.consume($0) }
        #expect(frame.pid == 77)
        // "started" is out; its newline could begin the end mark, so it waits.
        #expect(String(decoding: out, as: UTF8.self) == "started")
        out = Array("more".utf8).withUnsafeBytes { frame.consume($0) }
        #expect(String(decoding: out, as: UTF8.self) == "\nmore")
        #expect(!frame.ended)
    }

    @Test("a first line that is not a pid stays output")
    func notAPid() {
        let bytes = Array("\(Self.rs)S\(Self.nonce)\nhello\nworld\n\(Self.rs)E\(Self.nonce) 0\n".utf8)
        let (frame, output) = Self.feed(bytes, chunk: 3, pid: true)
        #expect(frame.pid == nil)
        #expect(output == "hello\nworld")
        #expect(frame.trailer == "0")
    }

    @Test("the request: a header with the byte count and the mode, the text, a newline")
    func request() {
        #expect(RemoteShell.request("echo hi", nonce: "abc", mode: .subshell) == Array("abc 8 s\necho hi\n".utf8))
        #expect(RemoteShell.request("echo hi", nonce: "abc", mode: .body) == Array("abc 8 b\necho hi\n".utf8))
        #expect(RemoteShell.request("a\nb\n", nonce: "abc", mode: .bash) == Array("abc 5 c\na\nb\n\n".utf8))
        // Bytes, not characters: the driver reads them in the C locale.
        #expect(RemoteShell.request("echo é", nonce: "abc", mode: .subshell) == Array("abc 8 s\necho é\n".utf8))
        let one = RemoteShell.nonce(), two = RemoteShell.nonce()
        #expect(one != two)
        #expect(one.count >= 16)
        #expect(one.allSatisfy { $0.isLetter || $0.isNumber })
    }

    @Test("the greeting is found after a login script's chatter, in any chunking")
    func greeting() {
        let bytes = Array("Welcome!\nmotd\n".utf8) + RemoteShell.greeting
        for size in [1, 4, bytes.count] {
            var g = RemoteShell.Greeting()
            var done = false
            var i = 0
            while i < bytes.count {
                done = Array(bytes[i..<min(bytes.count, i + size)]).withUnsafeBytes { g.consume($0) }
                i += size
            }
            #expect(done)
        }
        var g = RemoteShell.Greeting()
        #expect(!Array("sh: 1: [: unexpected operator\n".utf8).withUnsafeBytes { g.consume($0) })
    }

    @Test(
        "a text naming $$, ${$} or PPID gets a bash of its own; one with a ) or a last backslash a subshell; any other is a subshell's body"
    )
    func mode() {
        #expect(RemoteShell.Mode(for: "systemctl restart app") == .body)
        #expect(RemoteShell.Mode(for: "echo $BASHPID $HOME $1") == .body)
        #expect(RemoteShell.Mode(for: "cd /opt/app && ./bin/app migrate 'x y' \"$V\"\nsystemctl start app") == .body)
        #expect(RemoteShell.Mode(for: "echo $$ > pid") == .bash)
        #expect(RemoteShell.Mode(for: "echo ${$}") == .bash)
        #expect(RemoteShell.Mode(for: "kill $PPID") == .bash)
        #expect(RemoteShell.Mode(for: "kill $PPID )") == .bash)
        // A ) anywhere, quoted or not: the text could close the subshell it is parsed into.
        #expect(RemoteShell.Mode(for: "echo $(date)") == .subshell)
        #expect(RemoteShell.Mode(for: "case $x in a) ;; esac") == .subshell)
        #expect(RemoteShell.Mode(for: "ls ')'") == .subshell)
        #expect(RemoteShell.Mode(for: "ls a \\") == .subshell)
        #expect(RemoteShell.Mode(for: "ls a \\\n\n") == .subshell)
        #expect(RemoteShell.Mode(for: "ls a \\\nb") == .body)
        #expect(RemoteShell.Mode.subshell.announcingPid("true") == "printf '%s\\n' \"$BASHPID\"\ntrue")
        #expect(RemoteShell.Mode.body.announcingPid("true") == "printf '%s\\n' \"$BASHPID\"\ntrue")
        #expect(RemoteShell.Mode.bash.announcingPid("true") == RemoteScript.announcingPid("true"))
    }

    @Test("what goes down the shell: no stdin, no sudo password to type, no NUL")
    func accepts() {
        #expect(RemoteShell.accepts(RemoteCommand("true")))
        #expect(RemoteShell.accepts(RemoteCommand("true", become: Become(user: "root"))))
        #expect(!RemoteShell.accepts(RemoteCommand("wc -l", stdin: [1])))
        #expect(!RemoteShell.accepts(RemoteCommand("true", become: Become(user: "root", password: Secret("pw")))))
        #expect(!RemoteShell.accepts(RemoteCommand("a\u{0}b")))
    }
}
