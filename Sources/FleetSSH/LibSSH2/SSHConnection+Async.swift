import FleetCore
import Foundation
import Synchronization

/// Holds an operation for a task-cancellation handler, which may run before the
/// operation exists (then it is cancelled as soon as it does).
final class CancelBox<Op: Sendable>: Sendable {
    private let state = Mutex<(op: Op?, cancelled: Bool)>((nil, false))

    /// Stores the operation; true when cancellation already happened.
    func set(_ op: Op) -> Bool {
        state.withLock { s in
            s.op = op
            return s.cancelled
        }
    }

    /// Marks cancelled; returns the operation to cancel, if it exists yet.
    func cancel() -> Op? {
        state.withLock { s in
            s.cancelled = true
            return s.op
        }
    }
}

extension SSHConnection {
    /// Runs one operation to completion, cancelling it (remote side included) if the
    /// calling task is cancelled.
    func perform<T: Sendable>(_ make: (CheckedContinuation<T, Error>) -> SessionOperation) async throws -> T {
        let box = CancelBox<any SessionOperation>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let op = make(continuation)
                let alreadyCancelled = box.set(op)
                enqueue(op)
                if alreadyCancelled { cancel(op) }
            }
        } onCancel: {
            if let op = box.cancel() { self.cancel(op) }
        }
    }

    /// Runs a command: down the host's persistent shell when the plan asks for one and the
    /// command can go there (`RemoteShell.accepts`), otherwise in a channel of its own.
    func run(_ command: RemoteCommand) async throws -> CommandResult {
        if plan.persistentShell && RemoteShell.accepts(command) { return try await runInShell(command) }
        return try await perform { continuation in
            ExecOperation(command, host: plan.hostName) { continuation.resume(with: $0) }
        }
    }

    private func runInShell(_ command: RemoteCommand) async throws -> CommandResult {
        let box = CancelBox<ShellRequest>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let r = ShellRequest(command, host: plan.hostName) { continuation.resume(with: $0) }
                let alreadyCancelled = box.set(r)
                reactor.submit {
                    self.submit(r)
                    if alreadyCancelled { self.cancel(r) }
                }
            }
        } onCancel: {
            if let r = box.cancel() { self.reactor.submit { self.cancel(r) } }
        }
    }
}

extension SSHConnection {
    /// Writes a temporary file beside `remotePath` over SFTP, then renames it over the
    /// target with `mv -f` (rename(2): atomic, and SFTP v3's rename refuses to replace).
    func upload(_ source: UploadSource, to remotePath: String, mode: Int) async throws {
        let temporary = remotePath + ".fleetup-\(UInt32.random(in: 0...UInt32.max)).tmp"
        _ = try await perform { continuation in
            SFTPWriteOperation(source, to: temporary, mode: mode, host: plan.hostName) { continuation.resume(with: $0) }
        }
        let move = RemoteCommand(ShellQuote.join(["mv", "-f", "--", temporary, remotePath]), timeout: .seconds(60))
        let result = try await run(move)
        guard result.succeeded else {
            _ = try? await run(RemoteCommand(ShellQuote.join(["rm", "-f", "--", temporary]), timeout: .seconds(30)))
            throw RemoteError(
                .uploadFailed, host: plan.hostName,
                "cannot move the upload into place at \(remotePath): \(result.stderr.text)")
        }
    }

    /// Opens a direct-tcpip channel to `target:port` from this (jump) host and returns the
    /// socket a connection to the host behind it uses as its transport. The socket closes
    /// when either side ends.
    func openBridge(to target: String, port: Int) async throws -> Int32 {
        var fds: [Int32] = [-1, -1]
        guard
            socketpair(
                AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                0, &fds) == 0
        else {
            throw RemoteError(.channelFailed, host: plan.hostName, "cannot create a socket pair: \(String(cString: strerror(errno)))")
        }
        let ours = fds[0], theirs = fds[1]
        do {
            try await perform { (continuation: CheckedContinuation<Void, Error>) in
                BridgeOperation(target: target, port: port, jump: plan.hostName, fd: ours) { continuation.resume(with: $0) }
            }
        } catch {
            Glibc.close(theirs)
            throw error
        }
        return theirs
    }

    func openTunnel(to targetHost: String, port: Int) async throws -> any RemoteTunnel {
        let box = CancelBox<TunnelOperation>()
        let op = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TunnelOperation, Error>) in
                let op = TunnelOperation(target: targetHost, port: port, host: plan.hostName) {
                    continuation.resume(with: $0)
                }
                let cancelled = box.set(op)
                enqueue(op)
                if cancelled { cancel(op) }
            }
        } onCancel: {
            if let op = box.cancel() { self.cancel(op) }
        }
        return SSHTunnel(connection: self, operation: op)
    }
}

/// The async face of a `TunnelOperation`.
final class SSHTunnel: RemoteTunnel {
    private let connection: SSHConnection
    private let operation: TunnelOperation

    init(connection: SSHConnection, operation: TunnelOperation) {
        self.connection = connection
        self.operation = operation
    }

    deinit {
        let (c, op) = (connection, operation)
        c.reactor.submit {
            op.close(); c.drive()
        }
    }

    func write(_ bytes: [UInt8]) async throws {
        try await request { op, done in op.write(bytes, done) }
    }

    func read() async throws -> [UInt8]? {
        try await request { op, done in op.read(done) }
    }

    func close() async {
        let (c, op) = (connection, operation)
        c.reactor.submit {
            op.close(); c.drive()
        }
    }

    /// Hands a request to the operation on the reactor; cancelling the task closes the tunnel.
    private func request<T: Sendable>(
        _ body: @escaping @Sendable (TunnelOperation, @escaping (Result<T, Error>) -> Void) -> Void
    ) async throws -> T {
        let (c, op) = (connection, operation)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                c.reactor.submit {
                    body(op) { continuation.resume(with: $0) }
                    c.drive()
                }
            }
        } onCancel: {
            c.cancel(op)
        }
    }
}
