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
