import FleetCore

/// Before a run changes anything: connect to every host of the plan (the connections are
/// kept for the run). A host key that is unknown or changed is refused before any step
/// runs anywhere (design.md §7); an unreachable host is only noted — it fails when its turn
/// comes, counted by the failure policy like any failure.
public enum Preflight {
    public struct Result: Sendable {
        /// Host-key refusals: the run must not start.
        public var refused: [RemoteError]
        /// Could not connect now (unreachable, auth, timeout).
        public var unreachable: [RemoteError]
        public var connected: Int
    }

    public static func connect(_ hosts: [Host], width: Int, executor: any RemoteExecutor) async -> Result {
        let results = await FanOut.map(hosts, forks: width) { host -> RemoteError? in
            do {
                _ = try await executor.connect(host)
                return nil
            } catch let e as RemoteError {
                return e
            } catch {
                return RemoteError(.cancelled, host: host.name, "interrupted")
            }
        }
        var out = Result(refused: [], unreachable: [], connected: 0)
        for (host, r) in zip(hosts, results) {
            let error: RemoteError
            switch r {
            case .some(.none):
                out.connected += 1
                continue
            case .some(.some(let e)): error = e
            case .none: error = RemoteError(.cancelled, host: host.name, "not connected: interrupted")
            }
            if error.kind == .hostKeyUnknown || error.kind == .hostKeyChanged {
                out.refused.append(error)
            } else {
                out.unreachable.append(error)
            }
        }
        return out
    }
}
