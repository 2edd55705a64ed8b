import FleetCore

/// The exact text fleetup sends in an exec request, and the one that stops it.
///
/// libssh2 1.10 cannot send RFC 4254's "signal" request (a channel that ran a command
/// refuses any further request), and closing a channel does not end a command that is
/// not writing. So each command first prints its session leader's pid (sshd makes every
/// session its own process group) on a line the reader strips; a timeout or an
/// interruption then kills that process group from a second channel.
enum RemoteScript {
    /// The pid line, then the script itself on the lines after it: the login shell runs
    /// it exactly as it would have. Not `eval`: bash (5.1+) runs the last simple command of
    /// its `-c` text in place, without a fork, but not inside `eval`, which would cost every
    /// host an extra process per command.
    static func announcingPid(_ script: String) -> String {
        "printf '%s\\n' \"$$\"\n" + script
    }

    /// TERM to the process group, up to 2 s for it to go, then KILL.
    static func killGroup(_ pid: Int32) -> String {
        let g = "-\(pid)"
        return "kill -s TERM -- \(g) 2>/dev/null; n=0; "
            + "while kill -0 -- \(g) 2>/dev/null && [ $n -lt 20 ]; do sleep 0.1; n=$((n+1)); done; "
            + "kill -s KILL -- \(g) 2>/dev/null; true"
    }

    /// Splits the announced pid line off the front of stdout. Feed it chunks until it
    /// returns a pid (or gives up after 32 bytes without a newline).
    struct PidLine {
        private var buffer: [UInt8] = []
        private(set) var pid: Int32?
        private(set) var done = false

        /// Returns the bytes of `chunk` that belong to the command's own output.
        mutating func consume(_ chunk: UnsafeRawBufferPointer) -> [UInt8] {
            guard !done else { return Array(chunk) }
            if let nl = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                buffer.append(contentsOf: chunk[..<nl])
                pid = Int32(String(decoding: buffer, as: UTF8.self))
                done = true
                let rest = Array(chunk[(nl + 1)...])
                if pid == nil { return buffer + [UInt8(ascii: "\n")] + rest }
                return rest
            }
            buffer.append(contentsOf: chunk)
            if buffer.count > 32 {
                done = true
                return buffer
            }
            return []
        }

        /// What was held back when the stream ended without a full line.
        mutating func flush() -> [UInt8] {
            guard !done else { return [] }
            done = true
            return buffer
        }
    }
}
