import FleetCore
import Foundation
import Testing

@testable import FleetSSH

/// Upload sources are opened on the reactor thread: anything but a regular file is
/// refused there, at once (issue 18: /dev/zero uploaded forever, a named pipe waited for a
/// writer with every connection stopped behind it).
@Suite("upload sources")
struct UploadSourceTests {
    @Test("devices, pipes and folders are refused without blocking", arguments: ["/dev/zero", "/", "FIFO"])
    func refused(path: String) throws {
        let dir = NSTemporaryDirectory() + "upload-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let local = path == "FIFO" ? dir + "/fifo" : path
        if path == "FIFO" { #expect(mkfifo(local, 0o600) == 0) }
        #expect(
            throws: RemoteError(
                .uploadFailed, host: "h1", "local file \(local) is not a regular file (a device, pipe or folder): fleetup uploads files")
        ) {
            _ = try SFTPWriteOperation.open(local, host: "h1")
        }
    }

    @Test("a regular file is opened")
    func regular() throws {
        let handle = try SFTPWriteOperation.open("/etc/hostname", host: "h1")
        #expect(try handle.read(upToCount: 1) != nil)
    }
}
