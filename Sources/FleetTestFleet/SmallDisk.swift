import FleetLocal
import FleetSSH
import Foundation

/// A small tmpfs of the test's own, to fill up on purpose: a state folder on a disk that
/// runs out of room mid-run. Mounting needs root (as CI runs); elsewhere the tests that
/// need one are not run, and say so.
public struct SmallDisk: Sendable {
    public let path: String

    /// Whether this process may mount one.
    public static let available: Bool = {
        guard geteuid() == 0, let mount = LocalProcess.find("mount") else { return false }
        let probe = NSTemporaryDirectory() + "fleetup-smalldisk-probe-\(getpid())"
        guard (try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)) != nil else { return false }
        defer { rmdir(probe) }
        guard (try? LocalProcess.run(mount, ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe])) != nil else { return false }
        _ = umount2(probe, Int32(MNT_DETACH))
        return true
    }()

    /// Mounts a tmpfs of `bytes` for `body`, unmounted after it whatever happens.
    public static func with<T>(bytes: Int, _ body: (SmallDisk) async throws -> T) async throws -> T {
        let path = NSTemporaryDirectory() + "fleetup-smalldisk-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = try LocalProcess.run(
            LocalProcess.find("mount") ?? "/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0700", "tmpfs", path])
        defer {
            _ = umount2(path, Int32(MNT_DETACH))
            rmdir(path)
        }
        return try await body(SmallDisk(path: path))
    }

    /// Writes zeros into `name` until the disk is full; returns the bytes written.
    @discardableResult
    public func fill(_ name: String = "fill") throws -> Int {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        var total = 0
        // Down to single bytes, so that not even a short journal line fits afterwards.
        for size in [4096, 256, 16, 1] {
            while true {
                let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
                if n <= 0 { break }
                total += n
            }
        }
        return total
    }

    /// Gives the room `fill` took back.
    public func empty(_ name: String = "fill") { unlink(path + "/" + name) }
}
