import FleetLocal
import FleetSSH

/// Local programs for the test fleet, through FleetSSH's `LocalProcess`.
enum Tool {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The program's path, or an error saying which package provides it.
    static func path(of name: String) throws -> String {
        guard let path = LocalProcess.find(name) else {
            throw Failure(description: "\(name) not found; install openssh-server and openssh-client (scripts/test installs them)")
        }
        return path
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        try LocalProcess.run(executable, arguments)
    }

    /// Starts one program per item, at most `width` at a time, and waits for all of them.
    static func inParallel<T>(_ items: [T], width: Int = 16, _ start: (T) throws -> LocalProcess) throws {
        var index = 0
        while index < items.count {
            let running = try items[index..<min(index + width, items.count)].map(start)
            var firstError: Error?
            for r in running {
                do { try r.wait() } catch { firstError = firstError ?? error }
            }
            if let firstError { throw firstError }
            index += width
        }
    }
}
