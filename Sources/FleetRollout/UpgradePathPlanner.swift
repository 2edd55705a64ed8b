import FleetCore

/// Why a host has no path to the target: an error for that host, never a guess.
public struct PathError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The host's version is not one of the playbook's releases.
        case unknownVersion = "unknown-version"
        /// The host is on a release after the target.
        case aheadOfTarget = "ahead-of-target"
        /// The target is not one of the releases.
        case unknownTarget = "unknown-target"
        /// A template or `when:` of a step failed for this host.
        case render
        /// Releases order the same instructions differently (cumulative).
        case conflict
    }

    public var kind: Kind
    public var message: String
    /// The playbook line concerned, when there is one.
    public var line: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String { message }
}

/// One hop of a path as versions alone decide it, before any step is rendered.
public struct Leg: Sendable, Hashable {
    public var from: Release
    public var to: Release
    /// The releases after `from` up to `to`, oldest first (just `to` when sequential).
    public var releases: [Release]
}

/// A host's way from its release to the target (design.md §5.5), with every step rendered.
///
/// `sequential` visits every release in between, one full hop each: 5.0.0 -> 5.3.0 over
/// [5.0.0, 5.1.0, 5.2.0, 5.3.0] is three hops, each running all of `steps:` with that
/// release's own steps where `release_steps` stands. `cumulative` is one hop to the target
/// running the releases' own steps of every release after the current one, each distinct
/// step once (`StepMerge`); a `waypoint` release in between splits it into hops that stop
/// there. A release flag (`restart_streaming`) is true on a hop when any of the hop's
/// releases sets it.
public enum UpgradePathPlanner {
    /// The hops from `from` to `to`; empty when the host is already there.
    public static func legs(from: Version, to: Version, releases: [Release], mode: PathMode) throws(PathError) -> [Leg] {
        guard let t = releases.firstIndex(where: { $0.version == to }) else {
            throw PathError(.unknownTarget, "target \(to) is not one of the releases (\(list(releases)))")
        }
        guard let f = releases.firstIndex(where: { $0.version == from }) else {
            if from > to {
                throw PathError(
                    .aheadOfTarget, "version \(from) is ahead of the target \(releases[t].version.text); fleetup does not downgrade")
            }
            throw PathError(
                .unknownVersion,
                "version \(from) is not one of the releases (\(list(releases))); add it to releases: if it is a release to upgrade from")
        }
        if f == t { return [] }
        if f > t {
            throw PathError(
                .aheadOfTarget,
                "version \(releases[f].version.text) is ahead of the target \(releases[t].version.text); fleetup does not downgrade")
        }
        switch mode {
        case .sequential:
            return (f..<t).map { Leg(from: releases[$0], to: releases[$0 + 1], releases: [releases[$0 + 1]]) }
        case .cumulative:
            let stops = ((f + 1)..<t).filter { releases[$0].waypoint } + [t]
            var legs: [Leg] = []
            var start = f
            for stop in stops {
                legs.append(Leg(from: releases[start], to: releases[stop], releases: Array(releases[(start + 1)...stop])))
                start = stop
            }
            return legs
        }
    }

    /// The hops of one host, every step rendered with its variables (`scope`: the host's
    /// vars; the facts `from`, `to`, `target` and `release` are set here).
    public static func path(from: Version, to: Version, playbook: Playbook, scope: TemplateScope) throws(PathError) -> [Hop] {
        let legs = try legs(from: from, to: to, releases: playbook.releases, mode: playbook.path)
        guard let target = playbook.release(to) else { return [] }
        var hops: [Hop] = []
        for leg in legs {
            hops.append(try hop(leg, target: target, playbook: playbook, scope: scope))
        }
        return hops
    }

    static func hop(_ leg: Leg, target: Release, playbook: Playbook, scope: TemplateScope) throws(PathError) -> Hop {
        var flags: [String: Bool] = [:]
        for name in playbook.flags { flags[name] = leg.releases.contains { $0.flags[name] == true } }
        let hopScope = scope.with([
            "from": leg.from.version.text, "to": leg.to.version.text,
            "target": target.version.text, "release": leg.to.version.text,
        ])
        let renderer = StepRenderer(playbook: playbook, flags: flags)
        var steps: [PlannedStep] = []
        var skipped: [SkippedStep] = []
        for entry in playbook.steps {
            switch entry {
            case .step(let s):
                switch try renderer.render(s, release: nil, scope: hopScope) {
                case .planned(let p): steps.append(p)
                case .skipped(let k): skipped.append(k)
                }
            case .releaseSteps:
                var lists: [(release: String, steps: [PlannedStep])] = []
                for r in leg.releases {
                    let rScope = hopScope.with(["release": r.version.text])
                    var list: [PlannedStep] = []
                    for s in r.steps {
                        switch try renderer.render(s, release: r.version.text, scope: rScope) {
                        case .planned(let p): list.append(p)
                        case .skipped(let k): skipped.append(k)
                        }
                    }
                    lists.append((r.version.text, list))
                }
                do {
                    steps += try StepMerge.merge(lists)
                } catch {
                    throw PathError(.conflict, error.message, line: leg.releases.first?.line)
                }
            }
        }
        var rollback: [PlannedStep] = []
        for s in playbook.rollback {
            if case .planned(let p) = try renderer.render(s, release: nil, scope: hopScope) { rollback.append(p) }
        }
        return Hop(
            from: leg.from.version.text, to: leg.to.version.text, releases: leg.releases.map(\.version.text),
            flags: playbook.flags.filter { flags[$0] == true }, steps: steps, skipped: skipped, rollback: rollback)
    }

    private static func list(_ releases: [Release]) -> String {
        releases.map(\.version.text).joined(separator: ", ")
    }
}
