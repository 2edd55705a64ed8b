import FleetCore
import FleetLocal
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The few POSIX calls the store makes, each turning a failure into a `StoreError` that
/// names the path and the errno text. Files are 0600 and folders 0700: journals and locks
/// hold hostnames and command output.
enum Posix {
    static let fileMode: mode_t = 0o600
    static let folderMode: mode_t = 0o700

    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    static func failure(_ what: String, _ path: String, _ code: Int32 = errno) -> StoreError {
        StoreError(.io, path: path, "\(what): \(errnoText(code))")
    }

    /// open(2), retried on EINTR; the mode is set exactly (whatever the umask) when the file
    /// is created.
    static func open(_ path: String, _ flags: Int32, what: String = "cannot open") throws(StoreError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, fileMode)
            if fd >= 0 {
                if flags & O_CREAT != 0 { _ = fchmod(fd, fileMode) }
                return fd
            }
            if errno != EINTR { throw failure(what, path) }
        }
    }

    /// One write(2) of all of `bytes`, retried only when it was interrupted before writing
    /// anything; returns how many bytes it wrote.
    static func writeOnce(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        while true {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n >= 0 || errno != EINTR { return n }
        }
    }

    /// Writes everything (a lock file, a log line): loops over short writes.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write", path)
            }
            offset += n
        }
    }

    /// fdatasync(2): the bytes are on disk when it returns.
    static func sync(_ fd: Int32, path: String) throws(StoreError) {
        while fdatasync(fd) != 0 {
            if errno != EINTR { throw failure("cannot flush to disk (fdatasync)", path) }
        }
    }

    /// fsync of a folder, so that a file just created or removed in it stays so after a crash.
    static func syncFolder(_ path: String) throws(StoreError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open folder", path) }
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno != EINTR { throw failure("cannot flush folder to disk (fsync)", path) }
        }
    }

    /// `mkdir -p` with 0700 for every folder it creates (existing ones are left as they are).
    static func makeFolders(_ path: String) throws(StoreError) {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return }
            throw StoreError(.io, path: path, "exists and is not a folder")
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try makeFolders(parent) }
        if mkdir(path, folderMode) != 0 && errno != EEXIST { throw failure("cannot create folder", path) }
        _ = chmod(path, folderMode)
    }

    /// mkdir(2) of one folder with 0700; false when it already exists.
    static func makeFolder(_ path: String) throws(StoreError) -> Bool {
        if mkdir(path, folderMode) == 0 {
            _ = chmod(path, folderMode)
            return true
        }
        if errno == EEXIST { return false }
        throw failure("cannot create folder", path)
    }

    /// The whole file, or nil when it does not exist. At most `limit` bytes, and never
    /// from a device (a journal linked to /dev/zero was read until the memory ran out).
    static func read(_ path: String, limit: Int) throws(StoreError) -> [UInt8]? {
        do { return try InputFile.read(path, limit: limit) } catch {
            if error.kind == .missing { return nil }
            throw StoreError(.io, path: path, error.message)
        }
    }

    /// unlink(2); false when the file was already gone.
    @discardableResult
    static func remove(_ path: String) throws(StoreError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw failure("cannot remove", path)
    }

    /// Appends one line with one write(2) on an O_APPEND descriptor, then fdatasync.
    static func appendLine(_ line: String, to path: String) throws(StoreError) {
        let fd = try open(path, O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        let bytes = Array((line.hasSuffix("\n") ? line : line + "\n").utf8)
        let n = writeOnce(fd, bytes)
        if n < 0 { throw failure("cannot write", path) }
        if n != bytes.count { throw StoreError(.io, path: path, "short write: \(n) of \(bytes.count) bytes") }
        try sync(fd, path: path)
    }

    /// True while a process with this pid exists on this machine (kill(pid, 0): only ESRCH
    /// means it is gone; EPERM means it exists but belongs to someone else).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno != ESRCH
    }

    /// This machine's name (gethostname).
    static var machineName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The login name of the effective user (the password database, then $USER).
    static var userName: String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid\(geteuid())"
    }
}
