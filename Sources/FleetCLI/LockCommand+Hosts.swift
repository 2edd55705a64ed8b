import FleetCore
import FleetRollout
import FleetStore
import Foundation

/// The host locks of a fleet's hosts, as `fleetup lock status` and `release --force` show
/// and remove them (docs/runs.md, "Host locks"): every host of the plan is asked, `forks`
/// at a time.
struct HostLockSurvey {
    /// Held host locks and hosts that could not be asked, by host, in plan order.
    var held: [(host: String, state: LockState)] = []
    var unanswered: [(host: String, reason: String)] = []
    var asked = 0

    /// Asks (or with `release`, force-releases) every host's lock.
    static func take(_ hosts: [FleetCore.Host], executor: any RemoteExecutor, forks: Int, release: Bool) async -> HostLockSurvey {
        let answers = await FanOut.map(hosts, forks: forks) { host -> (String, Result<LockState, any Error>) in
            let lock = RemoteLock(host: host, place: .host(folder: host.vars[HostLocks.variable]?.scalarText), executor: executor)
            do { return (host.name, .success(release ? try await lock.forceRelease() : try await lock.holder())) } catch {
                return (host.name, .failure(error))
            }
        }
        var survey = HostLockSurvey(asked: hosts.count)
        for case let (host, result)? in answers {
            switch result {
            case .success(.free): break
            case .success(let state): survey.held.append((host, state))
            case .failure(let error): survey.unanswered.append((host, "\(error)"))
            }
        }
        return survey
    }

    /// `  host locks: none held (4 hosts)`, or a line per held or unanswered host.
    func lines(released: Bool) -> [String] {
        var out = held.map { "  host lock \($0.host): \(released ? "was \($0.state)" : $0.state.hostLockStatusText())" }
        out += unanswered.map { "  host lock \($0.host): not asked: \($0.reason)" }
        if out.isEmpty { out = ["  host locks: none held (\(asked) host\(asked == 1 ? "" : "s"))"] }
        return out
    }

    /// For released.log: `host locks: prod01 held by run …; prod03 not reached (…)`.
    var record: String {
        let parts = held.map { "\($0.host) \($0.state)" } + unanswered.map { "\($0.host) not reached (\($0.reason))" }
        return "host locks: " + (parts.isEmpty ? "none held" : parts.joined(separator: "; "))
    }
}
