import CLibPQ
import Foundation

/// One connection to PostgreSQL through libpq, owned by a thread of its own: every libpq
/// call (each may block on the network) runs there, never on Swift's cooperative pool, and
/// one at a time, in the order asked. Async callers wait on continuations.
public final class PGConnection: @unchecked Sendable {
    /// What a statement returned: its rows, each field as text or NULL.
    public struct Rows: Sendable, Equatable {
        public var rows: [[String?]]
        /// The number of rows a command touched (INSERT, UPDATE, DELETE), 0 otherwise.
        public var affected: Int
    }

    /// Why a connection or a statement failed: libpq's message (never the URL's password,
    /// which libpq does not print) and SQLSTATE when the server gave one.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var sqlState: String?
        public var description: String { message }

        /// The connection or the server went away (no SQLSTATE from the server, a
        /// connection exception 08…, or the server shutting down 57P…), rather than the
        /// server refusing the statement.
        public var isConnectionLoss: Bool {
            guard let sqlState else { return true }
            return sqlState.hasPrefix("08") || sqlState.hasPrefix("57P")
        }
    }

    public let url: PostgresURL
    private let worker: Worker
    // Touched on the worker's thread only.
    private var conn: OpaquePointer?

    private init(url: PostgresURL, worker: Worker) {
        self.url = url
        self.worker = worker
    }

    /// Connects (on the connection's own thread) or throws libpq's reason.
    public static func connect(_ url: PostgresURL) async throws -> PGConnection {
        let connection = PGConnection(url: url, worker: Worker(name: "fleetup-pg"))
        do {
            try await connection.onWorker { c in
                let conn = PQconnectdb(url.libpqText)
                c.conn = conn
                guard PQstatus(conn) == CONNECTION_OK else {
                    throw Failure(message: "cannot connect to \(url): \(Self.message(of: conn))", sqlState: nil)
                }
                // Notices ("relation already exists, skipping") are not errors: not printed.
                PQsetNoticeProcessor(conn, { _, _ in }, nil)
            }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// `body` with a connection of its own, closed after (whatever happened).
    public static func with<T: Sendable>(_ url: PostgresURL, _ body: (PGConnection) async throws -> T) async throws -> T {
        let db = try await connect(url)
        do {
            let result = try await body(db)
            await db.close()
            return result
        } catch {
            await db.close()
            throw error
        }
    }

    /// Runs one statement with `$1`… parameters sent apart from the text (never quoted into
    /// it), or several statements without parameters; returns the last one's rows.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) async throws -> Rows {
        try await onWorker { c in
            guard let conn = c.conn else { throw Failure(message: "the connection to \(c.url) is closed", sqlState: nil) }
            let result: OpaquePointer?
            if parameters.isEmpty {
                result = PQexec(conn, sql)
            } else {
                result = Self.withCStrings(parameters) { values in
                    PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
                }
            }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                var rows: [[String?]] = []
                let n = PQntuples(result), fields = PQnfields(result)
                rows.reserveCapacity(Int(n))
                for r in 0..<n {
                    rows.append(
                        (0..<fields).map { f in PQgetisnull(result, r, f) == 1 ? nil : String(cString: PQgetvalue(result, r, f)) })
                }
                return Rows(rows: rows, affected: Int(String(cString: PQcmdTuples(result))) ?? 0)
            default:
                let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                let text = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
                throw Failure(message: Self.trimmed(text.isEmpty ? Self.message(of: conn) : text), sqlState: state)
            }
        }
    }

    /// Closes the connection and ends its thread (once; later calls do nothing).
    public func close() async {
        _ = try? await onWorker { c in
            if let conn = c.conn { PQfinish(conn) }
            c.conn = nil
        }
        worker.stop()
    }

    deinit {
        // Not closed: finished on its thread, which then ends.
        let conn = self.conn
        worker.submit { if let conn { PQfinish(conn) } }
        worker.stop()
    }

    private func onWorker<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            worker.submit { [self] in continuation.resume(with: Result { try body(self) }) }
        }
    }

    private static func message(of conn: OpaquePointer?) -> String {
        trimmed(PQerrorMessage(conn).map { String(cString: $0) } ?? "unknown error")
    }

    private static func trimmed(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    private static func withCStrings<R>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = values.map { $0.map { strdup($0) } ?? nil }
        defer { for p in copies { free(p) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }
}

/// A thread running submitted jobs in order until stopped.
final class Worker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopped = false

    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.stackSize = 512 * 1024
        thread.start()
    }

    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        if stopped {
            condition.unlock()
            job()  // after stop: run here (a close racing a deinit), never lost
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
