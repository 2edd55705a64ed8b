import Dispatch
import Foundation

/// Ctrl-C and SIGTERM for a command: the first calls `onFirst` (the command stops starting
/// work and interrupts what runs), the second exits at once with 130.
// @unchecked: the sources are set once in init and only cancelled afterwards.
final class Interrupts: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]

    private init(_ sources: [DispatchSourceSignal]) { self.sources = sources }

    static func install(onFirst: @escaping @Sendable () -> Void) -> Interrupts {
        install(exitOn: 2) { n in
            FileHandle.standardError.write(Data("fleetup: interrupted: stopping the commands in flight (again to quit at once)\n".utf8))
            onFirst()
        }
    }

    /// Calls `onSignal(n)` for the n-th Ctrl-C/SIGTERM before the `exitOn`-th, which exits
    /// at once with 130 (`run`: the first drains, the second ends commands, the third quits).
    static func install(exitOn: Int, onSignal: @escaping @Sendable (Int) -> Void) -> Interrupts {
        let count = Counter()
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let n = count.increment()
                if n < exitOn { onSignal(n) } else { Fleetup.terminate(130) }
            }
            source.resume()
            return source
        }
        return Interrupts(sources)
    }

    func cancel() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// A thread-safe counter.
private final class Counter: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
