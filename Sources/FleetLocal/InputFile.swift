import Foundation

/// Reads a file fleetup was given as input (an inventory, a vars file, a playbook, a
/// `--limit @file`, ssh_config, a key, a journal) whole, but never more than a limit and
/// never from a device: `-i /dev/zero` once read until the memory ran out.
///
/// What is read: regular files, and pipes (`-i <(make-inventory)`) up to the limit; a
/// named pipe is opened without waiting for a writer, so one that nobody has opened for
/// writing reads as empty instead of hanging. `/dev/null` reads as empty (ssh's idiom,
/// `--known-hosts /dev/null`). Any other device (`/dev/zero`, a terminal), a socket or a
/// folder is refused.
public enum InputFile {
    /// Why a file was not read: lower case, without the path (the caller names the file,
    /// as `file: problem`).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// It does not exist (ENOENT).
            case missing
            /// open or read failed for another reason (permissions, I/O).
            case unreadable
            /// A folder.
            case folder
            /// A device or a socket.
            case notAFile
            /// Larger than the limit.
            case tooLarge
        }

        public var kind: Kind
        public var message: String
        public var description: String { message }

        public init(kind: Kind, message: String) {
            self.kind = kind
            self.message = message
        }
    }

    /// The whole content of `path`, at most `limit` bytes.
    public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        // O_NONBLOCK: opening a named pipe otherwise waits for a writer, forever if none comes.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            throw Failure(
                kind: code == ENOENT ? .missing : .unreadable, message: "cannot read the file (\(String(cString: strerror(code))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw Failure(kind: .unreadable, message: "cannot read the file (\(String(cString: strerror(errno))))")
        }
        let type = info.st_mode & S_IFMT
        switch type {
        case S_IFREG:
            guard Int(info.st_size) <= limit else { throw tooLarge(limit) }
        case S_IFIFO:
            break
        case S_IFCHR where isDevNull(info):
            return []
        case S_IFDIR:
            throw Failure(kind: .folder, message: "is a folder, not a file")
        default:
            throw Failure(
                kind: .notAFile,
                message: "is \(type == S_IFSOCK ? "a socket" : "a device"), not a file (fleetup reads regular files and pipes)")
        }
        // Blocking again, so that a pipe's reads wait for its writer's data.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        // Sized from fstat (vars files are small: no 64 KB buffer to clear per file), and
        // read until EOF in case the file grows meanwhile, one byte past the limit at most.
        var bytes = [UInt8](repeating: 0, count: min(max(Int(info.st_size), 0), limit) + 1)
        var used = 0
        while true {
            if used == bytes.count {
                guard used <= limit else { throw tooLarge(limit) }
                bytes.append(contentsOf: repeatElement(0, count: min(max(4096, used), limit + 1 - used)))
            }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + used, $0.count - used) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(kind: .unreadable, message: "cannot read the file (\(String(cString: strerror(errno))))")
            }
            used += n
        }
        guard used <= limit else { throw tooLarge(limit) }
        bytes.removeSubrange(used...)
        return bytes
    }

    /// `64 MB`, `1 GB`, `512 KB`: how messages state a size limit.
    public static func sizeText(_ bytes: Int) -> String {
        for (unit, size) in [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size) \(unit)"
        }
        return "\(bytes) bytes"
    }

    private static func tooLarge(_ limit: Int) -> Failure {
        Failure(kind: .tooLarge, message: "is larger than \(sizeText(limit)), the most fleetup reads from one file")
    }

    /// The null device, whatever path names it (ssh_config and known_hosts are often it).
    private static func isDevNull(_ info: stat) -> Bool {
        var null = stat()
        return stat("/dev/null", &null) == 0 && null.st_rdev == info.st_rdev && (null.st_mode & S_IFMT) == S_IFCHR
    }
}
