import FleetCore
import Testing

@Suite("captured output: a bounded tail plus a byte count")
struct CapturedOutputTests {
    @Test("small output is kept whole")
    func small() {
        var out = CapturedOutput(limit: 8)
        out.append(Array("abc".utf8))
        out.finish()
        #expect(out.text == "abc")
        #expect(out.totalBytes == 3)
        #expect(!out.isTruncated)
    }

    @Test("many small chunks keep only the last `limit` bytes, and count all of them")
    func manyChunks() {
        var out = CapturedOutput(limit: 10)
        for i in 0..<1000 { out.append(Array(String(i % 10).utf8)) }
        out.finish()
        #expect(out.totalBytes == 1000)
        #expect(out.text == "0123456789")
        #expect(out.isTruncated)
    }

    @Test("a chunk larger than the limit replaces the tail with its own end")
    func bigChunk() {
        var out = CapturedOutput(limit: 4)
        out.append(Array("xy".utf8))
        out.append(Array("0123456789".utf8))
        out.finish()
        #expect(out.text == "6789")
        #expect(out.totalBytes == 12)
    }

    @Test("a limit near Int.max (--output-limit 9223372036854775807) keeps everything, without overflowing")
    func hugeLimit() {
        var out = CapturedOutput(limit: Int.max)
        for _ in 0..<3 { out.append(Array("abc".utf8)) }
        out.finish()
        #expect(out.text == "abcabcabc")
        #expect(!out.isTruncated)
    }

    @Test("a zero limit keeps nothing and still counts")
    func zeroLimit() {
        var out = CapturedOutput(limit: 0)
        out.append(Array("hello".utf8))
        #expect(out.tail.isEmpty)
        #expect(out.totalBytes == 5)
    }

    @Test("a multi-byte character cut by truncation is repaired, not a crash")
    func cutCharacter() {
        var out = CapturedOutput(limit: 3)
        out.append(Array("a✓".utf8))  // ✓ is 3 bytes: the tail is exactly ✓
        out.append(Array("é".utf8))  // 2 bytes: tail = last byte of ✓ + é
        out.finish()
        #expect(out.tail.count == 3)
        #expect(out.text.hasSuffix("é"))
        #expect(out.text.hasPrefix("\u{FFFD}"))
    }
}

@Suite("command results")
struct CommandResultTests {
    @Test(
        "outcome text",
        arguments: [
            (CommandResult(exitStatus: 0), "exit 0", true),
            (CommandResult(exitStatus: 3), "exit 3", false),
            (CommandResult(exitStatus: nil, exitSignal: "KILL"), "killed by KILL", false),
            (CommandResult(exitStatus: nil, timedOut: true), "timed out", false),
            // A signal wins over a stale status of 0.
            (CommandResult(exitStatus: 0, exitSignal: "TERM"), "killed by TERM", false),
        ])
    func outcome(result: CommandResult, text: String, succeeded: Bool) {
        #expect(result.outcomeText == text)
        #expect(result.succeeded == succeeded)
    }
}
