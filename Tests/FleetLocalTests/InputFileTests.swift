import FleetLocal
import Foundation
import Testing

/// Every input file goes through `InputFile.read`: bounded, and never from a device
/// (`-i /dev/zero`, `--limit @/dev/zero` and a journal linked to /dev/zero read forever).
@Suite("input files")
struct InputFileTests {
    /// A fresh folder, removed by the caller's `defer`.
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "inputfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test(
        "what is refused, and why",
        arguments: [
            ("/dev/zero", InputFile.Failure.Kind.notAFile, "is a device, not a file (fleetup reads regular files and pipes)"),
            ("/dev/urandom", .notAFile, "is a device, not a file (fleetup reads regular files and pipes)"),
            ("/", .folder, "is a folder, not a file"),
            ("/nonexistent/inventory.ini", .missing, "cannot read the file (No such file or directory)"),
        ])
    func refused(path: String, kind: InputFile.Failure.Kind, message: String) {
        #expect(throws: InputFile.Failure(kind: kind, message: message)) { try InputFile.read(path, limit: 1 << 20) }
    }

    @Test("/dev/null reads as empty (ssh's idiom: --known-hosts /dev/null)")
    func devNull() throws {
        #expect(try InputFile.read("/dev/null", limit: 10) == [])
    }

    @Test("a file past the limit is refused from its size, without reading it")
    func tooLarge() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big.ini"
        // Sparse: 64 MB + 1 byte on paper, nothing on disk.
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(64 << 20) + 1) == 0)
        #expect(throws: InputFile.Failure(kind: .tooLarge, message: "is larger than 64 MB, the most fleetup reads from one file")) {
            try InputFile.read(path, limit: 64 << 20)
        }
        #expect(truncate(path, off_t(64 << 20)) == 0)
        #expect(try InputFile.read(path, limit: 64 << 20).count == 64 << 20)
    }

    @Test(
        "a pipe (-i <(make-inventory)) is read to its end, up to the limit",
        arguments: [
            ("h1\nh2\n", 10, Result<String, InputFile.Failure>.success("h1\nh2\n")),
            ("0123456789", 10, .success("0123456789")),
            (
                "0123456789a", 10,
                .failure(InputFile.Failure(kind: .tooLarge, message: "is larger than 10 bytes, the most fleetup reads from one file"))
            ),
        ])
    func pipe(content: String, limit: Int, expected: Result<String, InputFile.Failure>) throws {
        var ends: [Int32] = [0, 0]
        #expect(Foundation.pipe(&ends) == 0)
        defer { close(ends[0]) }
        // Written whole before reading (smaller than the pipe's buffer), then the writer
        // closes, as a finished `<(...)` does.
        let bytes = Array(content.utf8)
        #expect(write(ends[1], bytes, bytes.count) == bytes.count)
        close(ends[1])
        let got = Result { () throws(InputFile.Failure) in
            String(decoding: try InputFile.read("/proc/self/fd/\(ends[0])", limit: limit), as: UTF8.self)
        }
        #expect(got == expected)
    }

    @Test("a named pipe nobody writes to reads as empty, without waiting")
    func namedPipe() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        #expect(try InputFile.read(dir + "/fifo", limit: 10) == [])
    }

    @Test(
        "limits are stated in the largest whole unit",
        arguments: [
            (64 << 20, "64 MB"), (1 << 30, "1 GB"), (1 << 20, "1 MB"), (512 << 10, "512 KB"), (1000, "1000 bytes"),
        ])
    func sizeText(bytes: Int, text: String) {
        #expect(InputFile.sizeText(bytes) == text)
    }
}
