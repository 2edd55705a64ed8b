import CLibSSH2
import FleetCore
import Foundation

/// Writes one file over SFTP (its own SFTP session, so uploads never share libssh2's
/// per-SFTP request state): init, open with CREAT|TRUNC, write in chunks, set the mode
/// (open's mode is subject to the server's umask), close, shut the SFTP channel.
// @unchecked Sendable: created on any thread, then touched only on the reactor thread.
final class SFTPWriteOperation: SessionOperation, @unchecked Sendable {
    enum State { case initializing, opening, writing, chmod, closingHandle, shuttingDown }

    static let chunkSize = 256 * 1024

    private let source: UploadSource
    private let path: String
    private let mode: Int
    private let host: String
    private var completion: ((Result<Int, Error>) -> Void)?
    private var state = State.initializing
    private var sftp: OpaquePointer?
    private var handle: OpaquePointer?
    private var file: FileHandle?
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: SFTPWriteOperation.chunkSize, alignment: 16)
    private var filled = 0
    private var offset = 0
    private var written = 0
    private var sourceEnded = false
    private var failure: Error?

    init(
        _ source: UploadSource, to path: String, mode: Int, host: String,
        completion: @escaping (Result<Int, Error>) -> Void
    ) {
        self.source = source
        self.path = path
        self.mode = mode
        self.host = host
        self.completion = completion
    }

    deinit { buffer.deallocate() }

    var deadline: UInt64? { nil }
    func timeUp(now: UInt64, _ c: SSHConnection) {}

    func cancel(_ c: SSHConnection) {
        if failure == nil { failure = RemoteError(.cancelled, host: host, "the upload to \(path) was interrupted") }
    }

    func abort(_ error: RemoteError, _ c: SSHConnection) {
        sftp = nil
        handle = nil
        complete(.failure(error))
    }

    func advance(_ c: SSHConnection) -> OpStep {
        guard let s = c.session else { return .blocked }
        if failure != nil && (state == .opening || state == .writing || state == .chmod) {
            state = handle == nil ? .shuttingDown : .closingHandle
        }
        switch state {
        case .initializing:
            guard c.acquireRequestSlot(self) else { return .blocked }
            guard let f = libssh2_sftp_init(s) else {
                let rc = libssh2_session_last_errno(s)
                if LibSSH2.isAgain(rc) { return .blocked }
                c.releaseRequestSlot(self)
                return fail(c, rc, "cannot start SFTP (is the sftp subsystem enabled on the host?)")
            }
            c.releaseRequestSlot(self)
            sftp = f
            if failure != nil { state = .shuttingDown; return .progressed }
            do {
                if case .file(let local) = source { file = try Self.open(local, host: host) }
            } catch {
                failure = error
                state = .shuttingDown
                return .progressed
            }
            state = .opening
            return .progressed
        case .opening:
            guard let h = fleet_sftp_open_for_write(sftp, path, mode) else {
                if LibSSH2.isAgain(libssh2_session_last_errno(s)) { return .blocked }
                return sftpFailed(c, "cannot create \(path)")
            }
            handle = h
            state = .writing
            return .progressed
        case .writing:
            if offset == filled {
                if sourceEnded { state = .chmod; return .progressed }
                refill()
                if filled == 0 { sourceEnded = true; state = .chmod; return .progressed }
            }
            let n = libssh2_sftp_write(
                handle, buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self),
                filled - offset)
            if LibSSH2.isAgain(n) { return .blocked }
            guard n >= 0 else { return sftpFailed(c, "cannot write \(path)") }
            offset += n
            written += n
            return .progressed
        case .chmod:
            let rc = fleet_sftp_chmod(handle, UInt(mode))
            if LibSSH2.isAgain(rc) { return .blocked }
            guard rc == 0 else { return sftpFailed(c, "cannot set the mode of \(path)") }
            state = .closingHandle
            return .progressed
        case .closingHandle:
            let rc = libssh2_sftp_close_handle(handle)
            if LibSSH2.isAgain(rc) { return .blocked }
            handle = nil
            if rc != 0 && failure == nil { return sftpFailed(c, "cannot close \(path)") }
            state = .shuttingDown
            return .progressed
        case .shuttingDown:
            if let f = sftp {
                let rc = libssh2_sftp_shutdown(f)
                if LibSSH2.isAgain(rc) { return .blocked }
                sftp = nil
            }
            complete(failure.map { .failure($0) } ?? .success(written))
            return .finished
        }
    }

    /// Loads the next chunk of the source into the stable buffer libssh2 writes from
    /// (after EAGAIN it must be called again with the same pointer and length).
    private func refill() {
        offset = 0
        filled = 0
        switch source {
        case .bytes(let bytes):
            let start = written
            let n = min(SFTPWriteOperation.chunkSize, bytes.count - start)
            if n > 0 { bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + n])) } }
            filled = max(0, n)
        case .file:
            let data = file?.readData(ofLength: SFTPWriteOperation.chunkSize) ?? Data()
            data.withUnsafeBytes { buffer.copyMemory(from: $0) }
            filled = data.count
        }
    }

    /// The SFTP server's status for the failed request, as words.
    private func sftpFailed(_ c: SSHConnection, _ what: String) -> OpStep {
        let code = sftp.map { libssh2_sftp_last_error($0) } ?? 0
        let text: String
        switch code {
        case LIBSSH2_FX_NO_SUCH_FILE, LIBSSH2_FX_NO_SUCH_PATH: text = "no such file or directory (does the folder exist?)"
        case LIBSSH2_FX_PERMISSION_DENIED, LIBSSH2_FX_WRITE_PROTECT: text = "permission denied"
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM, LIBSSH2_FX_QUOTA_EXCEEDED: text = "no space left on the host"
        case 0: text = c.lastErrorMessage()
        default: text = "SFTP status \(code)"
        }
        if failure == nil { failure = RemoteError(.uploadFailed, host: host, "\(what): \(text)") }
        state = handle == nil ? .shuttingDown : .closingHandle
        return .progressed
    }

    private func fail(_ c: SSHConnection, _ rc: Int32, _ what: String) -> OpStep {
        let error =
            LibSSH2.isTransportFailure(rc)
            ? c.transportFailed(rc, while: "uploading \(path)")
            : RemoteError(.uploadFailed, host: host, "\(what): \(c.lastErrorMessage())")
        complete(.failure(error))
        return .finished
    }

    private func complete(_ result: Result<Int, Error>) {
        try? file?.close()
        file = nil
        completion?(result)
        completion = nil
    }
}

extension SFTPWriteOperation {
    /// The local file to upload, refused unless it is a regular file: this runs on the
    /// reactor thread, where opening a named pipe would wait for a writer (stopping every
    /// connection), and /dev/zero would upload forever.
    static func open(_ local: String, host: String) throws -> FileHandle {
        let fd = Glibc.open(local, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw RemoteError(.uploadFailed, host: host, "cannot read local file \(local)") }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw RemoteError(
                .uploadFailed, host: host, "local file \(local) is not a regular file (a device, pipe or folder): fleetup uploads files")
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
