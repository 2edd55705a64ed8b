import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Files that are replaced whole (a run's reports): a reader, or a crash, sees the old file
/// or the new one, never part of one.
public enum StoreFile {
    /// Writes `text` to a temporary file beside `path` (0600), flushes it, renames it over
    /// `path` and flushes the folder. On an error the temporary file is removed and `path`
    /// is left as it was.
    public static func write(_ text: String, to path: String) throws(StoreError) {
        try write(Array(text.utf8), to: path)
    }

    /// `write(_:to:)` of bytes.
    public static func write(_ bytes: [UInt8], to path: String) throws(StoreError) {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = try Posix.open(temporary, O_WRONLY | O_CREAT | O_EXCL, what: "cannot create a temporary file")
        do {
            defer { close(fd) }
            try Posix.writeAll(fd, bytes, path: temporary)
            try Posix.sync(fd, path: temporary)
        } catch {
            _ = try? Posix.remove(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let failure = Posix.failure("cannot rename \(temporary) to it", path)
            _ = try? Posix.remove(temporary)
            throw failure
        }
        try Posix.syncFolder(folder.isEmpty ? "." : folder)
    }

    /// `mkdir -p`, creating folders 0700 (existing ones are left as they are).
    /// Writes `files` into `directory` (created 0700 when missing), each replaced whole
    /// (temporary file, flush, rename), so no reader ever sees half of one; returns their
    /// paths. What a run's reports are written with, into its folder or `--output DIR`.
    @discardableResult
    public static func write(_ files: [(name: String, bytes: [UInt8])], into directory: String) throws(StoreError) -> [String] {
        try makeFolders(directory)
        var paths: [String] = []
        for f in files {
            let path = directory + "/" + f.name
            try write(f.bytes, to: path)
            paths.append(path)
        }
        return paths
    }

    public static func makeFolders(_ path: String) throws(StoreError) {
        try Posix.makeFolders(RunStore.absolute(path))
    }
}
