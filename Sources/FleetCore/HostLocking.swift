/// One upgrader per host: the lock a run holds on each host while it works on it, on the
/// host itself, so that two runs never touch one server at once whatever their playbooks'
/// paths or machines (docs/runs.md, "Host locks"). FleetStore implements it over SSH; the
/// coordinator takes it after connecting and before anything else runs on the host, and
/// gives it back when the host is done — not when the run leaves it mid-upgrade: then the
/// lock stays, and only a resume of the same run takes it over (docs/runs.md, "Host locks").
public protocol HostLocking: Sendable {
    /// Takes the host's lock for this run.
    func acquire(_ host: Host) async -> HostLockOutcome
    /// Gives it back if this run still holds it; nil when done, else why not.
    func release(_ host: Host) async -> String?
}

/// What taking a host's lock came to.
public enum HostLockOutcome: Sendable, Hashable {
    /// Taken; `note` says when a stale lock (or this run's own, from an earlier part) was
    /// taken over.
    case acquired(note: String?)
    /// Another run holds it (working on the host, or it left the host mid-upgrade): the
    /// host's failure message, naming the holder and what to do.
    case refused(String)
    /// The host could not be asked (a connection failure makes the host unreachable).
    case failed(RemoteError)
}
