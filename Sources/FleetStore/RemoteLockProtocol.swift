import FleetCore

/// Where a lock lives on a host: its folder as a shell word, and its name for messages.
public struct RemoteLockPlace: Sendable, Hashable {
    /// A shell word (`"$HOME"/…` is expanded by the remote shell; the rest is quoted).
    public var folder: String
    /// `0123456789abcdef` for a fleet's lock, `host` for a host's own.
    public var name: String
    /// `~/.local/state/fleetup/locks/<key>`, as messages show the folder.
    public var display: String
    /// Whether a release leaves the folder (a host's lock folder is taken again by every
    /// run, so keeping it saves the host a `mkdir` and an `rmdir`); a fleet's `locks/<key>/`
    /// is removed once empty.
    public var keepsFolder: Bool

    /// A fleet's lock on its lock host: `~/.local/state/fleetup/locks/<key>/`.
    public static func fleet(_ key: String) -> RemoteLockPlace {
        RemoteLockPlace(
            folder: #""$HOME"/.local/state/fleetup/locks/"# + ShellQuote.quote(key), name: key,
            display: "~/.local/state/fleetup/locks/\(key)", keepsFolder: false)
    }

    /// A host's own lock (one upgrader per host): `~/.local/state/fleetup/host.lock/`, or
    /// the folder the host's `fleetup_host_lock_dir` names (`~/` is the login user's home).
    public static func host(folder: String? = nil) -> RemoteLockPlace {
        guard let folder, !folder.isEmpty, folder != "~/.local/state/fleetup/host.lock" else {
            return RemoteLockPlace(
                folder: #""$HOME"/.local/state/fleetup/host.lock"#, name: "host",
                display: "~/.local/state/fleetup/host.lock", keepsFolder: true)
        }
        let word = folder.hasPrefix("~/") ? #""$HOME"/"# + ShellQuote.quote(String(folder.dropFirst(2))) : ShellQuote.quote(folder)
        return RemoteLockPlace(folder: word, name: "host", display: folder, keepsFolder: true)
    }
}

/// The remote lock's shell protocol: pure functions that build the commands run on the lock
/// host, and the parser of what they print. Values go into the scripts through `ShellQuote`.
///
/// On the lock host a fleet's lock is `$HOME/.local/state/fleetup/locks/<key>/owner.json`
/// (a host's own lock: `$HOME/.local/state/fleetup/host.lock/owner.json`), the folder made
/// with `mkdir -p` (umask 077: 0700) when it is missing. The owner is written whole to a
/// temporary file beside it, then hard-linked to `owner.json`: link(2) is atomic and fails
/// when the name exists, so exactly one of two acquirers wins, and every reader, the loser
/// included, reads a whole owner. (An exclusive create of owner.json itself would leave a
/// moment in which it exists and is empty: a run killed then would leave the host locked by
/// nobody, and a loser would read no owner.)
///
/// A host's lock is taken and given back by every run on every host, so the scripts use
/// shell builtins wherever they can (`read` and `case` where `grep` and `cat` ran): taking
/// a lock whose folder exists runs `ln` (the temporary name stays as a second link), giving
/// it back runs one `rm` for both names, and a host's lock keeps its folder.
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

    /// Prints the file on stdin whole with builtins (what `cat` printed; a last line without
    /// its newline gets one).
    static let printLines = #"while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done"#

    /// Reads `$f`'s first line into `$o` (empty when there is no file): the owner is one line.
    static let readOwner = #"o=; [ -f "$f" ] && { IFS= read -r o || :; } 2>/dev/null < "$f"; "#

    /// True (status 0) when the first line of owner.json holds run `runID`'s owner: a quoted
    /// pattern in a parameter expansion, which removes something only when `$o` contains
    /// it (no `case`, whose `)` would keep the script from being the body of a persistent
    /// shell's subshell, where its last command runs without a fork).
    static func matches(_ runID: String) -> String { "p=\(ShellQuote.quote(runIDField(runID))); [ \"${o#*\"$p\"}\" != \"$o\" ]" }

    /// `held` with the holder, or `free`. owner.json is opened once: one removed meanwhile
    /// answers `free` (not an owner that cannot be read); one that exists but cannot be read,
    /// or is a symbolic link to nothing (which no acquire can link over), answers `held`
    /// with no owner.
    static let heldOrFree =
        #"[ -f "$f" ] && { echo 'fleetup-lock: held'; "# + printLines + #"; } 2>/dev/null < "$f" || "#
        + #"if [ -f "$f" ] || [ -L "$f" ]; then echo 'fleetup-lock: held'; else echo 'fleetup-lock: free'; fi"#

    /// Prints `released` with what it held, then removes owner.json and the temporary names
    /// its acquire left (run `runID`'s; when nil, a forced release, every one), and for a
    /// fleet's lock its folder once empty. A host's lock ends with the `rm`, whose status is
    /// the script's (and which, last, runs without a fork of its own where it can).
    static func remove(_ place: RemoteLockPlace, runID: String?) -> String {
        let temporaries = #" "$d"/"# + ShellQuote.quote(".owner." + (runID.map { $0 + "." } ?? "")) + "*"
        return #"echo 'fleetup-lock: released'; { "# + printLines + #"; } 2>/dev/null < "$f"; rm -f "$f""# + temporaries
            + (place.keepsFolder ? "" : #" || exit 1; rmdir "$d" 2>/dev/null || :"#)
    }

    /// The temporary name `owner`'s acquire writes beside owner.json: its run, machine and
    /// pid, so no other acquirer writes the same file (and no `$$`, which would give the
    /// command a bash of its own in a persistent shell).
    static func temporary(_ owner: LockOwner) -> String {
        #""$d"/"# + ShellQuote.quote(".owner.\(owner.runID).\(owner.machine).\(owner.pid)")
    }

    /// Takes the lock for `owner` unless owner.json exists; `held` prints the holder.
    public static func acquire(in place: RemoteLockPlace, owner: LockOwner) -> RemoteCommand {
        let json = ShellQuote.quote(owner.json())
        let script =
            "umask 077; d=\(place.folder); f=\"$d/owner.json\"; t=\(temporary(owner)); "
            // Not a file (a folder, a FIFO, a symbolic link to nothing): an error, never
            // linked over or read.
            + #"if { [ -e "$f" ] || [ -L "$f" ]; } && [ ! -f "$f" ]; then echo "$f: exists and is not a file" >&2; exit 1; fi; "#
            // Twice: an older fleetup's release on another machine may remove the empty
            // folder in between (the second time with its errors shown). A write that fails
            // (a full disk) leaves no temporary file behind.
            + #"{ { [ -d "$d" ] || mkdir -p "$d"; } && printf '%s\n' "# + json + #" > "$t"; } 2>/dev/null "#
            + #"|| { mkdir -p "$d" && printf '%s\n' "# + json + #" > "$t"; } || { rm -f "$t"; exit 1; }; "#
            // The link, again with its error shown if the first failed and no owner is there.
            // The temporary name stays, a second link to the owner, until the release removes
            // both with one `rm` (one process fewer on every host).
            + #"if ln "$t" "$f" 2>/dev/null || { [ ! -f "$f" ] && ln "$t" "$f"; }; then echo 'fleetup-lock: acquired'; "#
            // Gone again by now: its holder gave it back between the link and this test.
            + #"elif rm -f "$t"; [ -f "$f" ]; then "# + heldOrFree
            + #"; else echo "$f: given back while this run took it; try again" >&2; exit 1; fi"#
        return RemoteCommand(script, display: "fleetup lock acquire \(place.name) (run \(owner.runID))", timeout: timeout)
    }

    /// Replaces a stale owner (run `staleRunID`) with `owner`, only if owner.json still holds
    /// that run; otherwise reports what it holds now (`held`, or `free`). The new owner is
    /// written to a temporary name of its own beside it (the acquire's name and `.new`, never
    /// the acquire's: that one may be a second link to owner.json) and renamed over it (`mv
    /// -f`, atomic): a take-over is rare.
    public static func takeOver(in place: RemoteLockPlace, staleRunID: String, owner: LockOwner) -> RemoteCommand {
        let script =
            "umask 077; d=\(place.folder); f=\"$d/owner.json\"; t=\(temporary(owner)).new; "
            + readOwner + "if " + matches(staleRunID) + "; then "
            + "printf '%s\\n' \(ShellQuote.quote(owner.json())) > \"$t\" && mv -f \"$t\" \"$f\" || exit 1; "
            + "echo 'fleetup-lock: acquired'; else \(heldOrFree); fi"
        return RemoteCommand(
            script, display: "fleetup lock take-over \(place.name) (stale run \(staleRunID), run \(owner.runID))", timeout: timeout)
    }

    /// Who holds the lock.
    public static func status(in place: RemoteLockPlace) -> RemoteCommand {
        let script = "f=\(place.folder)/owner.json; " + heldOrFree
        return RemoteCommand(script, display: "fleetup lock status \(place.name)", timeout: timeout)
    }

    /// Removes the lock only if it holds run `runID` (and a fleet's folder once empty: no
    /// `locks/<key>/` left behind on the lock host).
    public static func release(in place: RemoteLockPlace, runID: String) -> RemoteCommand {
        let script =
            "d=\(place.folder); f=\"$d/owner.json\"; " + readOwner + matches(runID)
            + " || { \(heldOrFree); exit 0; }; " + remove(place, runID: runID)
        return RemoteCommand(script, display: "fleetup lock release \(place.name) (run \(runID))", timeout: timeout)
    }

    /// Removes the lock whoever holds it, printing what it held.
    public static func forceRelease(in place: RemoteLockPlace) -> RemoteCommand {
        let script =
            "d=\(place.folder); f=\"$d/owner.json\"; "
            + "if [ -f \"$f\" ] || [ -L \"$f\" ]; then \(remove(place, runID: nil)); else echo 'fleetup-lock: free'; fi"
        return RemoteCommand(script, display: "fleetup lock release --force \(place.name)", timeout: timeout)
    }

    /// Reads a lock script's result. A script that did not print its marker, or exited
    /// non-zero, failed: the error names the host and the reason (stderr's last lines).
    /// With `readOwner` false the owner's JSON is not decoded (`held` and `released` then
    /// carry `.unreadable("not read")`): a release that only asks whether it released.
    public static func parse(_ result: CommandResult, host: String, readOwner: Bool = true) throws -> Reply {
        let lines = result.stdout.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard result.exitStatus == 0, let at = lines.firstIndex(where: { $0.hasPrefix(marker) }) else {
            throw LockError.remote(host: host, reason: failureReason(result))
        }
        let word = lines[at].dropFirst(marker.count)
        let owner = {
            readOwner
                ? Self.owner(lines[(at + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
                : .unreadable("not read")
        }
        switch word {
        case "acquired": return .acquired
        case "free": return .free
        case "held": return .held(owner())
        case "released": return .released(owner())
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
