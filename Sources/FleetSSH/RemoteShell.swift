import FleetCore
import Foundation

/// The persistent shell a run keeps on each host: ONE exec channel whose bash reads
/// commands from its stdin and runs each in a subshell of its own, instead of a channel
/// (and a session and a shell that sshd starts) per command.
///
/// Each command runs in a subshell of the driver (a fork: no sshd session, no new bash,
/// which is most of what a small command costs its host), with what a channel of its own
/// gives it: its own process group (the driver turns job control on, so each command is a
/// job; `set +m` inside, so the command's own background work stays in its group), stdin
/// from /dev/null (a channel's stdin is empty), its own stdout and stderr (framed on the
/// channel's two streams), its own exit status, and a pid line a timeout kills the group by.
/// A text that names `$$` or `PPID` gets a bash of its own instead (`bash -c`, as sshd
/// would run it), where they mean what they mean over a channel: in a subshell they would
/// be the driver's (`Mode`).
///
/// Framing, with a fresh random nonce per command (a command cannot print its frames by
/// accident): the request is `NONCE BYTES MODE\n` then BYTES bytes of text (the text and a
/// newline), which the driver reads with one `read -N` in the C locale (bytes, not
/// characters). A `read` of lines would cost the host a system call per byte: bash reads
/// a pipe one byte at a time unless it is told how much to read. Before the
/// command starts the driver writes `RS S NONCE \n` on both streams; once it ended,
/// `\n RS E NONCE STATUS \n` on stdout and `\n RS E NONCE \n` on stderr (RS is 0x1E). The
/// newline before each end mark is the driver's own and never output. What arrives
/// outside a command's frames (a background process of an earlier command still writing,
/// a login script's chatter before the greeting) is dropped.
///
/// Bash only (job control without a terminal); on any other login shell the greeting
/// never comes and the host's commands get a channel each, as before.
enum RemoteShell {
    /// The greeting the driver prints once ready; anything before it is dropped.
    static let greeting: [UInt8] = Array("\u{1E}fleetup-shell 1\n".utf8)

    /// What the login shell runs in the shell's exec request.
    static let driver = """
        [ -n "$BASH_VERSION" ] || exit 97
        exec 3>&2 2>/dev/null
        set -m || exit 97
        printf '\\036fleetup-shell 1\\n'
        __fleetup_body=b
        case :$SHELLOPTS: in *:posix:*) __fleetup_body=- ;; esac
        ! shopt -q expand_aliases || __fleetup_body=-
        while IFS=' ' read -r __fleetup_nonce __fleetup_bytes __fleetup_mode; do
        LC_ALL=C IFS= read -r -N "$__fleetup_bytes" __fleetup_text || exit 0
        printf '\\036S%s\\n' "$__fleetup_nonce"
        printf '\\036S%s\\n' "$__fleetup_nonce" >&3
        __fleetup_pid=
        if [ "$__fleetup_mode" = i ]; then
        printf '%s\\n' "$$"
        trap '' PIPE
        eval "$__fleetup_text" 2>&3
        __fleetup_status=$?
        trap - PIPE
        else
        if [ "$__fleetup_mode" = "$__fleetup_body" ]; then
        eval "( set +m; $__fleetup_text) </dev/null 2>&3 3>&- & __fleetup_pid=\\$!"
        fi
        if [ -n "$__fleetup_pid" ]; then :
        elif [ "$__fleetup_mode" = c ]; then
        "$BASH" -c "$__fleetup_text" </dev/null 2>&3 3>&- &
        __fleetup_pid=$!
        else
        ( set +m; eval "$__fleetup_text" ) </dev/null 2>&3 3>&- &
        __fleetup_pid=$!
        fi
        wait "$__fleetup_pid"
        __fleetup_status=$?
        fi
        printf '\\n\\036E%s %s\\n' "$__fleetup_nonce" "$__fleetup_status"
        printf '\\n\\036E%s\\n' "$__fleetup_nonce" >&3
        done
        """

    /// True when `command` can go down a host's shell: no stdin of its own, no NUL, and no
    /// sudo password to type (the conversation with sudo needs the command's own stdin;
    /// those commands keep a channel each).
    static func accepts(_ command: RemoteCommand) -> Bool {
        command.stdin.isEmpty && command.become?.password == nil && !command.script.utf8.contains(0)
    }

    /// A fresh nonce (two random 64-bit numbers in base 36).
    static func nonce() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36) + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// How the driver runs a command.
    enum Mode: String {
        /// The text is the body of a subshell the driver parses (`( set +m; TEXT\n) &`):
        /// bash then runs its last simple command in the subshell's own process, where
        /// `eval` in a subshell forks once more for it (an external command costs one fork,
        /// as in a channel's `bash -c`). Only for a text with no `)` anywhere, so nothing in
        /// it can close that subshell and run the rest in the driver: such a text either
        /// parses as the subshell's body or is a syntax error that runs nothing, after which
        /// the driver runs it as `.subshell` (where the error is reported as it would be).
        /// A driver in POSIX mode (where a syntax error in `eval` would end it) or with
        /// aliases on (an alias could hold a `)`) always runs `.subshell`, and so does a
        /// text that changes how the lines after it are read (`alias`, `shopt`, `set -v`):
        /// the body is read whole before any of it runs.
        case body = "b"
        /// In the shell itself (`eval`, no fork), after a line with the shell's pid: one call
        /// of a builtin that starts no process and cannot change the shell (`ShellBuiltin`).
        /// It has no process group of its own; a timeout ends the shell's (the shell itself:
        /// sshd made it a session leader, and every other command is a job of its own
        /// group), and the host's next command gets a new shell.
        case shell = "i"
        /// In a subshell of the driver (`eval`), after a line with its pid (`$BASHPID`).
        case subshell = "s"
        /// In a bash of its own (`bash -c`), after a line with its pid (`$$`).
        case bash = "c"

        /// A subshell, unless the text names what a subshell would answer differently
        /// from a bash of its own: `$$` (also `${$}`) and `$PPID`; its body when it can be.
        init(for script: String) {
            // Bytes, not Foundation's `contains` (an NSString search: 1.9 % of a run's CPU).
            let bytes = Array(script.utf8)
            if ShellBuiltin.runsInShell(bytes) {
                self = .shell
            } else if Self.differing.contains(where: { RemoteShell.find($0, in: bytes) != nil }) {
                self = .bash
            } else if bytes.contains(UInt8(ascii: ")")) || Self.continues(bytes) || Self.changesReading(bytes) {
                self = .subshell
            } else {
                self = .body
            }
        }

        private static let differing: [[UInt8]] = [Array("$$".utf8), Array("${$}".utf8), Array("PPID".utf8)]

        /// Whether the text may change how bash reads the lines after it: aliases, shell
        /// options (`shopt`), `set -v` / `set -o verbose`.
        private static func changesReading(_ bytes: [UInt8]) -> Bool {
            if Self.reading.contains(where: { RemoteShell.find($0, in: bytes) != nil }) { return true }
            var from = 0
            while let at = RemoteShell.find(Self.set, in: bytes, from: from) {
                var i = at + Self.set.count
                guard i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") else {
                    from = i
                    continue
                }
                i += 1
                while i < bytes.count,
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[i]) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(bytes[i])
                {
                    if bytes[i] == UInt8(ascii: "v") { return true }
                    i += 1
                }
                from = i
            }
            return false
        }

        private static let reading: [[UInt8]] = [Array("alias".utf8), Array("shopt".utf8), Array("verbose".utf8)]
        private static let set: [UInt8] = Array("set ".utf8)

        /// Whether the text's last line ends in a backslash (which would join the line
        /// after it, the subshell's `)`, to it).
        private static func continues(_ bytes: [UInt8]) -> Bool {
            bytes.last(where: { $0 != UInt8(ascii: "\n") }) == UInt8(ascii: "\\")
        }

        /// `script` after the line the driver reads the command's pid from (which, for a
        /// builtin run in the shell, the driver prints itself: the builtin is called as
        /// `builtin`, never a function of the same name).
        func announcingPid(_ script: String) -> String {
            switch self {
            case .shell: return "builtin " + ShellBuiltin.trimmed(script)
            case .body, .subshell: return "printf '%s\\n' \"$BASHPID\"\n" + script
            case .bash: return RemoteScript.announcingPid(script)
            }
        }
    }

    /// The request that runs `text` under `nonce`.
    static func request(_ text: String, nonce: String, mode: Mode) -> [UInt8] {
        Array("\(nonce) \(text.utf8.count + 1) \(mode.rawValue)\n".utf8) + Array(text.utf8) + [UInt8(ascii: "\n")]
    }

    /// Where `needle` first starts in `hay` (memchr for its first byte, then memcmp: the
    /// generic `firstRange(of:)` was 5 % of a run's CPU).
    static func find(_ needle: [UInt8], in hay: [UInt8], from start: Int = 0) -> Int? {
        guard !needle.isEmpty, hay.count - start >= needle.count else { return nil }
        return hay.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in
                let base = h.baseAddress!
                let last = h.count - n.count
                var i = start
                while i <= last {
                    guard let p = memchr(base + i, Int32(n[0]), last - i + 1) else { return nil }
                    i = base.distance(to: UnsafeRawPointer(p))
                    if memcmp(base + i, n.baseAddress!, n.count) == 0 { return i }
                    i += 1
                }
                return nil
            }
        }
    }

    /// Finds the greeting in what the channel's stdout has said so far.
    struct Greeting {
        private var held: [UInt8] = []
        private(set) var done = false

        /// True once the greeting has arrived (bytes after it, if any, are dropped: the
        /// driver prints nothing else until it has a command).
        mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard !done else { return true }
            held.append(contentsOf: bytes)
            if RemoteShell.find(RemoteShell.greeting, in: held) != nil {
                done = true
                held = []
            } else if held.count > 64 * 1024 {
                // A login script's chatter: keep only what could start the greeting.
                held.removeFirst(held.count - RemoteShell.greeting.count)
            }
            return done
        }
    }

    /// One stream of one command: drops bytes until the start mark, passes the command's
    /// output through, and stops at the end mark (whose trailer is the exit status on
    /// stdout). A partial mark is held back until it is known to be one or not.
    struct Frame {
        enum State { case before, pid, body, trailer, ended }
        private let start: [UInt8]
        private let announcesPid: Bool
        private let end: [UInt8]
        private var held: [UInt8] = []
        private(set) var state = State.before
        /// What followed the end mark on its line (the exit status on stdout).
        private(set) var trailer = ""
        /// The first line of the body, when it announces the command's pid (`RemoteScript`).
        private var pidLine = RemoteScript.PidLine()
        /// The command's pid, from the first line of its stdout.
        var pid: Int32? { pidLine.pid }

        /// `announcesPid`: the body's first line is the command's pid (stdout).
        init(nonce: String, announcesPid: Bool) {
            start = Array("\u{1E}S\(nonce)\n".utf8)
            end = Array("\n\u{1E}E\(nonce)".utf8)
            self.announcesPid = announcesPid
        }

        var ended: Bool { state == .ended }

        /// Where the longest tail of `held` that begins the end mark starts (`held.count`
        /// when none does): only such a tail must wait for more bytes.
        private func partialMarkStart() -> Int {
            var i = max(0, held.count - (end.count - 1))
            while i < held.count {
                if held[i] == end[0], held[i...].elementsEqual(end[..<(held.count - i)]) { return i }
                i += 1
            }
            return held.count
        }

        /// The command's own output among `bytes`.
        mutating func consume(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
            guard state != .ended else { return [] }
            held.append(contentsOf: bytes)
            var output: [UInt8] = []
            while true {
                switch state {
                case .before:
                    guard let at = RemoteShell.find(start, in: held) else {
                        if held.count >= start.count { held.removeFirst(held.count - start.count + 1) }
                        return output
                    }
                    held.removeFirst(at + start.count)
                    state = announcesPid ? .pid : .body
                case .pid:
                    // Taken here, before the body's hold-back, which could keep its newline.
                    held = held.withUnsafeBytes { pidLine.consume($0) }
                    guard pidLine.done else { return output }
                    state = .body
                case .body:
                    if let at = RemoteShell.find(end, in: held) {
                        output += held[..<at]
                        held.removeFirst(at + end.count)
                        state = .trailer
                    } else {
                        // Everything but a tail that could be the start of the end mark.
                        let safe = partialMarkStart()
                        guard safe > 0 else { return output }
                        output += held[..<safe]
                        held.removeFirst(safe)
                        return output
                    }
                case .trailer:
                    guard let nl = held.firstIndex(of: UInt8(ascii: "\n")) else { return output }
                    trailer = String(decoding: held[..<nl], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    held = []
                    state = .ended
                    return output
                case .ended:
                    return output
                }
            }
        }
    }
}
