import FleetCore

/// `fleetup.status/1` (docs/reports.md, docs/schema/fleetup.status-1.schema.json): keys in
/// a fixed order, every object of a kind with every key, null where a value does not apply.
enum StatusJSON {
    static func render(_ s: FleetStatus) -> String {
        let doc: JSON = .object([
            ("schema", .string("fleetup.status/1")),
            ("generated_at", .time(s.generatedAt)),
            ("duration_ms", .int(s.durationMs)),
            ("inventories", .array(s.inventories.map(JSON.string))),
            ("limit", .text(s.limit)),
            ("playbook", .text(s.playbook)),
            ("playbook_file", .text(s.playbookFile)),
            ("target", .text(s.target)),
            ("require_target", .bool(s.requireTarget)),
            ("version_source", .text(s.versionSource?.rawValue)),
            ("passed", .bool(s.passes)),
            ("summary", summary(s, s.hosts)),
            ("versions", versions(s.distribution())),
            (
                "stages",
                .array(
                    s.stages.map { name in
                        .object([
                            ("name", .string(name)), ("summary", summary(s, s.hosts(stage: name))),
                            ("versions", versions(s.distribution(stage: name))),
                        ])
                    })
            ),
            ("drift", drift(s)),
            ("unreachable", names(s.unreachable)),
            ("unhealthy", names(s.unhealthy)),
            ("hosts", .array(s.hosts.map { host(s, $0) })),
        ])
        return doc.render() + "\n"
    }

    static func names(_ hosts: [StatusHost]) -> JSON { .array(hosts.map { .string($0.name) }) }

    static func summary(_ s: FleetStatus, _ hosts: [StatusHost]) -> JSON {
        let drifts: [Drift?] = hosts.map { s.drift($0) }
        func count(_ d: Drift) -> JSON { s.target == nil ? .null : .int(drifts.filter { $0 == d }.count) }
        func count(_ test: (StatusHost) -> Bool) -> JSON { .int(hosts.filter(test).count) }
        var fields: [(String, JSON)] = [("hosts", .int(hosts.count))]
        fields.append(("passed", count { s.problems($0).isEmpty }))
        fields.append(("reachable", count { $0.reachable }))
        fields.append(("unreachable", count { !$0.reachable }))
        fields.append(("healthy", count { $0.healthy == true }))
        fields.append(("unhealthy", count { $0.reachable && $0.healthy == false }))
        fields.append(("health_unknown", count { $0.healthy == nil }))
        fields.append(("on_target", count(.onTarget)))
        fields.append(("behind", count(.behind)))
        fields.append(("ahead", count(.ahead)))
        fields.append(("version_unknown", count { $0.version == nil }))
        return .object(fields)
    }

    static func versions(_ d: [VersionCount]) -> JSON {
        .array(
            d.map {
                .object([("version", .text($0.version)), ("count", .int($0.hosts.count)), ("hosts", .array($0.hosts.map(JSON.string)))])
            })
    }

    static func drift(_ s: FleetStatus) -> JSON {
        guard let t = s.target else { return .null }
        func of(_ d: Drift) -> JSON { names(s.hosts.filter { s.drift($0) == d }) }
        return .object([
            ("target", .string(t)), ("on_target", of(.onTarget)), ("behind", of(.behind)), ("ahead", of(.ahead)),
            ("unknown", of(.unknown)),
        ])
    }

    static func host(_ s: FleetStatus, _ h: StatusHost) -> JSON {
        .object([
            ("host", .string(h.name)),
            ("stage", .string(h.stage)),
            ("passed", .bool(s.problems(h).isEmpty)),
            ("problems", .array(s.problems(h).map(JSON.string))),
            ("reachable", .bool(h.reachable)),
            ("error", .text(h.error)),
            ("version", .text(h.version)),
            ("version_problem", .text(h.versionProblem)),
            ("drift", .text(s.drift(h)?.rawValue)),
            ("healthy", h.healthy.map(JSON.bool) ?? .null),
            ("health_detail", .string(h.healthDetail)),
            ("health", h.health.map(RunJSON.health) ?? .null),
            (
                "last_run",
                h.lastRun.map { l in
                    .object([
                        ("id", .string(l.runID)), ("playbook", .string(l.playbook)), ("target", .string(l.target)),
                        ("at", .time(l.at)), ("outcome", .string(l.outcome)), ("message", .text(l.message)),
                    ])
                } ?? .null
            ),
        ])
    }
}
