import Foundation

/// Runs blocking work (getaddrinfo, spawning ssh-agent) on a thread of its own, so it
/// never occupies one of the cooperative pool's few threads.
public enum Blocking {
    public static func run<T: Sendable>(_ name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try work() })
            }
            thread.name = name
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }
}

extension LocalProcess {
    /// Runs `executable` to its end, waiting on a thread of its own (never the cooperative
    /// pool, whose few threads a blocked wait would starve).
    public static func result(
        of executable: String, _ arguments: [String],
        environment: [String: String]? = nil
    ) async throws -> Exit {
        try await Blocking.run("fleetup-wait") { try LocalProcess(executable, arguments, environment: environment).waitForExit() }
    }

    /// Waits for this process to end on a thread of its own.
    public func exited() async throws -> Exit {
        try await Blocking.run("fleetup-wait") { self.waitForExit() }
    }
}
