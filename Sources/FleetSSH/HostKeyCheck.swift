import FleetCore

/// Turns a known_hosts verdict and the policy into "go on" or a refusal that says what
/// was presented, what was expected, and what the operator can do.
enum HostKeyCheck {
    /// nil to go on; `record` is called for an unknown key under `accept-new`.
    /// Under `StrictHostKeyChecking no` every key is accepted, and `warn` says so, loudly,
    /// for each host whose key could not be checked.
    static func refusal(
        _ verdict: HostKeyVerdict, plan: ConnectPlan, keyType: String, fingerprint: String,
        record: () throws -> Void, warn: (String) -> Void = { _ in }
    ) -> RemoteError? {
        let name = KnownHostEntry.lookupName(host: plan.hostKeyName, port: plan.port)
        let files = plan.knownHosts.userFiles.first ?? "~/.ssh/known_hosts"
        if plan.policy == .insecureAcceptAny, !isKnown(verdict) {
            warn(
                """
                \(plan.hostName): WARNING: host key for \(name) NOT CHECKED (\(keyType) \(fingerprint), \(describe(verdict))): \
                StrictHostKeyChecking no accepts any key, so this connection may be intercepted
                """)
            return nil
        }
        switch verdict {
        case .known:
            return nil
        case .revoked(let origin):
            return RemoteError(
                .hostKeyChanged, host: plan.hostName,
                "host key for \(name) is revoked (\(origin)): \(keyType) \(fingerprint); refusing to connect")
        case .changed(let known):
            let was = known.map { "\($0.origin) has \($0.keyType) \($0.fingerprint)" }.joined(separator: "; ")
            return RemoteError(
                .hostKeyChanged, host: plan.hostName,
                """
                HOST KEY CHANGED for \(name): the server presents \(keyType) \(fingerprint), but \(was). \
                Someone may be intercepting the connection, or the host was reinstalled. Refused under every \
                policy; if the change is expected, remove the old entry (ssh-keygen -R '\(name)' -f \(files)) and connect again
                """)
        case .unknown:
            switch plan.policy {
            case .strict:
                return RemoteError(
                    .hostKeyUnknown, host: plan.hostName,
                    """
                    host key for \(name) is not known: the server presents \(keyType) \(fingerprint), which is not in \
                    \(plan.knownHosts.userFiles.isEmpty ? "any known_hosts file (UserKnownHostsFile none)" : plan.knownHosts.userFiles.joined(separator: ", ")). \
                    Check the fingerprint, then add it to known_hosts or run with --host-key-policy accept-new
                    """)
            case .insecureAcceptAny:
                return nil
            case .acceptNew:
                do {
                    try record()
                    return nil
                } catch {
                    return RemoteError(
                        .hostKeyUnknown, host: plan.hostName,
                        "host key for \(name) (\(keyType) \(fingerprint)) could not be recorded: \(error)")
                }
            }
        }
    }

    private static func isKnown(_ verdict: HostKeyVerdict) -> Bool {
        if case .known = verdict { return true }
        return false
    }

    private static func describe(_ verdict: HostKeyVerdict) -> String {
        switch verdict {
        case .known: return "known"
        case .unknown: return "not in known_hosts"
        case .changed(let known):
            return "CHANGED: known_hosts has " + known.map { "\($0.keyType) \($0.fingerprint)" }.joined(separator: ", ")
        case .revoked(let origin): return "REVOKED (\(origin))"
        }
    }
}
