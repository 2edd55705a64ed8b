import FleetCore

/// Where a lock lives on a host: its folder as a shell word, and its name for messages.
public struct RemoteLockPlace: Sendable, Hashable {
    /// A shell word (`"$HOME"/…` is expanded by the remote shell; the rest is quoted).
    public var folder: String
    /// `0123456789abcdef` for a fleet's lock, `host` for a host's own.
    public var name: String
    /// `~/.local/state/fleetup/locks/<key>`, as messages show the folder.
    public var display: String

    /// A fleet's lock on its lock host: `~/.local/state/fleetup/locks/<key>/`.
    public static func fleet(_ key: String) -> RemoteLockPlace {
        RemoteLockPlace(
            folder: #""$HOME"/.local/state/fleetup/locks/"# + ShellQuote.quote(key), name: key,
            display: "~/.local/state/fleetup/locks/\(key)")
    }

    /// A host's own lock (one upgrader per host): `~/.local/state/fleetup/host.lock/`, or
    /// the folder the host's `fleetup_host_lock_dir` names (`~/` is the login user's home).
    public static func host(folder: String? = nil) -> RemoteLockPlace {
        guard let folder, !folder.isEmpty, folder != "~/.local/state/fleetup/host.lock" else {
            return RemoteLockPlace(
                folder: #""$HOME"/.local/state/fleetup/host.lock"#, name: "host",
                display: "~/.local/state/fleetup/host.lock")
        }
        let word = folder.hasPrefix("~/") ? #""$HOME"/"# + ShellQuote.quote(String(folder.dropFirst(2))) : ShellQuote.quote(folder)
        return RemoteLockPlace(folder: word, name: "host", display: folder)
    }
}

/// The remote lock's shell protocol: pure functions that build the commands run on the lock
/// host, and the parser of what they print. Values go into the scripts through `ShellQuote`.
///
/// On the lock host a fleet's lock is `$HOME/.local/state/fleetup/locks/<key>/owner.json`
/// (a host's own lock: `$HOME/.local/state/fleetup/host.lock/owner.json`), the folder made
/// with `mkdir -p` (umask 077: 0700). The owner is written to a temporary file
/// beside it, then hard-linked to `owner.json`: link(2) is atomic and fails when the name
/// exists, so exactly one of two acquirers wins, and the loser always reads a whole owner
/// (a bare `mkdir` of the folder as the lock would leave a moment where the folder exists
/// and its owner does not).
///
/// Every script prints one marker line, `fleetup-lock: acquired|held|released|free`, then for
/// `held` and `released` the owner's JSON. A script that fails otherwise exits non-zero
/// with the reason on stderr.
public enum RemoteLockProtocol {
    public static let marker = "fleetup-lock: "
    /// Remote commands are small; a lock host that takes longer is in trouble.
    public static let timeout: Duration = .seconds(30)

    /// What a lock script reported.
    public enum Reply: Sendable, Hashable {
        case acquired
        case free
        /// Someone holds it (`.held(owner)`, or `.unreadable` when owner.json is not an owner).
        case held(LockState)
        /// Removed; what it held.
        case released(LockState)
    }

    /// The text `owner.json` holds for run `runID` (the owner's JSON has sorted keys and no
    /// spaces): what release and take-over match before they touch the file.
    static func runIDField(_ runID: String) -> String { #""runID":""# + runID + #"""# }

    /// Takes the lock for `owner` unless owner.json exists; `held` prints the holder.
    public static func acquire(in place: RemoteLockPlace, owner: LockOwner) -> RemoteCommand {
        let script =
            "umask 077; d=\(place.folder); t=\"$d\"/.owner.\(ShellQuote.quote(owner.runID)).$$; "
            // Twice: a release on another machine may remove the empty folder in between.
            + "{ mkdir -p \"$d\" && printf '%s\\n' \(ShellQuote.quote(owner.json())) > \"$t\"; } 2>/dev/null || "
            + "{ mkdir -p \"$d\" && printf '%s\\n' \(ShellQuote.quote(owner.json())) > \"$t\"; } || exit 1; "
            + "if e=$(ln \"$t\" \"$d/owner.json\" 2>&1); then rm -f \"$t\"; echo 'fleetup-lock: acquired'; "
            + "elif [ -f \"$d/owner.json\" ]; then rm -f \"$t\"; echo 'fleetup-lock: held'; cat \"$d/owner.json\"; "
            + "else rm -f \"$t\"; echo \"$e\" >&2; exit 1; fi"
        return RemoteCommand(script, display: "fleetup lock acquire \(place.name) (run \(owner.runID))", timeout: timeout)
    }

    /// Replaces a stale owner (run `staleRunID`) with `owner`, only if owner.json still holds
    /// that run; otherwise reports what it holds now (`held`, or `free`).
    public static func takeOver(in place: RemoteLockPlace, staleRunID: String, owner: LockOwner) -> RemoteCommand {
        let script =
            "umask 077; d=\(place.folder); f=\"$d/owner.json\"; t=\"$d\"/.owner.\(ShellQuote.quote(owner.runID)).$$; "
            + "if grep -qF -- \(ShellQuote.quote(runIDField(staleRunID))) \"$f\" 2>/dev/null; then "
            + "printf '%s\\n' \(ShellQuote.quote(owner.json())) > \"$t\" && mv -f \"$t\" \"$f\" || exit 1; "
            + "echo 'fleetup-lock: acquired'; "
            + "elif [ -f \"$f\" ]; then echo 'fleetup-lock: held'; cat \"$f\"; else echo 'fleetup-lock: free'; fi"
        return RemoteCommand(
            script, display: "fleetup lock take-over \(place.name) (stale run \(staleRunID), run \(owner.runID))", timeout: timeout)
    }

    /// Who holds the lock.
    public static func status(in place: RemoteLockPlace) -> RemoteCommand {
        let script =
            "f=\(place.folder)/owner.json; "
            + "if [ -f \"$f\" ]; then echo 'fleetup-lock: held'; cat \"$f\"; else echo 'fleetup-lock: free'; fi"
        return RemoteCommand(script, display: "fleetup lock status \(place.name)", timeout: timeout)
    }

    /// Removes the lock only if it holds run `runID`, and its folder once empty (no
    /// `locks/<key>/` left behind on the lock host).
    public static func release(in place: RemoteLockPlace, runID: String) -> RemoteCommand {
        let script =
            "d=\(place.folder); f=\"$d/owner.json\"; "
            + "if grep -qF -- \(ShellQuote.quote(runIDField(runID))) \"$f\" 2>/dev/null; then "
            + "echo 'fleetup-lock: released'; cat \"$f\"; rm -f \"$f\" || exit 1; rmdir \"$d\" 2>/dev/null; "
            + "elif [ -f \"$f\" ]; then echo 'fleetup-lock: held'; cat \"$f\"; else echo 'fleetup-lock: free'; fi"
        return RemoteCommand(script, display: "fleetup lock release \(place.name) (run \(runID))", timeout: timeout)
    }

    /// Removes the lock whoever holds it, printing what it held.
    public static func forceRelease(in place: RemoteLockPlace) -> RemoteCommand {
        let script =
            "d=\(place.folder); f=\"$d/owner.json\"; "
            + "if [ -f \"$f\" ]; then echo 'fleetup-lock: released'; cat \"$f\"; rm -f \"$f\" || exit 1; rmdir \"$d\" 2>/dev/null; "
            + "else echo 'fleetup-lock: free'; fi"
        return RemoteCommand(script, display: "fleetup lock release --force \(place.name)", timeout: timeout)
    }

    /// Reads a lock script's result. A script that did not print its marker, or exited
    /// non-zero, failed: the error names the host and the reason (stderr's last lines).
    public static func parse(_ result: CommandResult, host: String) throws -> Reply {
        let lines = result.stdout.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard result.exitStatus == 0, let at = lines.firstIndex(where: { $0.hasPrefix(marker) }) else {
            throw LockError.remote(host: host, reason: failureReason(result))
        }
        let word = lines[at].dropFirst(marker.count)
        let ownerText = lines[(at + 1)...].joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        switch word {
        case "acquired": return .acquired
        case "free": return .free
        case "held": return .held(owner(ownerText))
        case "released": return .released(owner(ownerText))
        default: throw LockError.remote(host: host, reason: "unexpected answer from the lock script: \(lines[at])")
        }
    }

    static func owner(_ text: String) -> LockState {
        if text.isEmpty { return .unreadable("owner.json is empty or unreadable") }
        do { return .held(try LockOwner.parse(text)) } catch {
            return .unreadable("owner.json: expected the owner as JSON: \(JournalFormat.describe(error))")
        }
    }

    static func failureReason(_ result: CommandResult) -> String {
        let err = result.stderr.text.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "\n").suffix(3).joined(separator: "; ")
        let status: String
        if result.timedOut {
            status = "the lock command timed out"
        } else if let s = result.exitStatus {
            status = s == 0 ? "the lock command printed no answer" : "the lock command exited \(s)"
        } else {
            status = "the lock command was killed" + (result.exitSignal.map { " (\($0))" } ?? "")
        }
        return err.isEmpty ? status : "\(status): \(err)"
    }
}
