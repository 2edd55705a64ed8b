import FleetCore

/// `fleetup.run/2`: the record as JSON, keys in a fixed order, every object of a kind with
/// the same keys (null where a value does not apply). docs/reports.md says what each key
/// means; docs/schema/fleetup.run-2.schema.json is its JSON Schema. Version 2 added
/// `actions` (who started, approved, resumed; the halt).
enum RunJSON {
    static let schema = "fleetup.run/2"

    static func render(_ r: RunRecord) -> String { String(decoding: bytes(r), as: UTF8.self) }

    /// `render`'s text as UTF-8: what the run folder's `run.json` holds.
    static func bytes(_ r: RunRecord) -> [UInt8] {
        let h = r.header
        let doc = JSON.object([
            ("schema", .string(schema)),
            ("id", .string(h.id)),
            ("playbook", .string(h.playbook)),
            ("playbook_file", .string(h.playbookFile)),
            ("inventories", .array(h.inventories.map(JSON.string))),
            ("target", .string(h.target)),
            ("limit", .text(h.limit)),
            ("overrides", .array(h.overrides.map(JSON.string))),
            ("user", .string(h.user)),
            ("machine", .string(h.machine)),
            ("fleetup_version", .string(h.fleetupVersion)),
            ("forks", .int(h.forks)),
            ("rollback", .bool(h.rollback)),
            ("policy", .string(h.policy)),
            ("pause_ms", .int(h.pauseMs)),
            ("gate", .string(h.gate)),
            ("started_at", .time(r.startedAt)),
            ("finished_at", .time(r.finishedAt)),
            ("duration_ms", .int(r.durationMs)),
            ("outcome", .text(r.outcome?.rawValue)),
            ("halt_reason", .text(r.haltReason)),
            ("resumes", .int(r.resumes)),
            ("actions", .array(r.actions.map(action))),
            ("last_seq", .int(r.lastSeq)),
            ("summary", summary(StatusCounts(r.hosts))),
            ("stages", .array(h.stages.map { stage(r, $0) })),
            ("hosts", .elements(r.hosts.count) { host(r.hosts[$0]) }),
        ])
        var out = doc.bytes()
        out.append(UInt8(ascii: "\n"))
        return out
    }

    static func action(_ a: RunAction) -> JSON {
        .object([
            ("kind", .string(a.kind.rawValue)),
            ("at", .time(a.at)),
            ("by", .text(a.by)),
            ("stage", .text(a.stage)),
            ("decision", .text(a.decision?.rawValue)),
            ("detail", .text(a.detail)),
            ("hook", a.hook.map(hook) ?? .null),
            ("notification", a.notification.map(notification) ?? .null),
        ])
    }

    /// How a notification went: every key always there (never its URL).
    static func notification(_ n: NotifyRecord) -> JSON {
        .object([
            ("event", .string(n.event.rawValue)), ("name", .string(n.name)), ("format", .string(n.format)),
            ("delivered", .bool(n.delivered)), ("http_status", .int(n.status)), ("attempts", .int(n.attempts)),
            ("error", .text(n.error)), ("duration_ms", .int(n.durationMs)),
        ])
    }

    /// How a hook ran: every key always there (null where it does not apply).
    static func hook(_ h: HookRecord) -> JSON {
        .object([
            ("point", .string(h.point.rawValue)), ("name", .string(h.name)), ("stage", .text(h.stage)), ("batch", .int(h.batch)),
            ("passed", .bool(h.passed)), ("exit_status", h.status.map { .int(Int($0)) } ?? .null),
            ("signal", h.signal.map { .int(Int($0)) } ?? .null), ("timed_out", .bool(h.timedOut)), ("error", .text(h.error)),
            ("output", .string(h.output)), ("duration_ms", .int(h.durationMs)),
        ])
    }

    /// Every status with its count (0 included), then the total.
    static func summary(_ c: StatusCounts) -> JSON {
        .object([("hosts", .int(c.total))] + HostStatus.all.map { ($0.key, .int(c[$0])) })
    }

    static func stage(_ r: RunRecord, _ s: StagePlan) -> JSON {
        .object([
            ("name", .string(s.name)),
            ("summary", summary(StatusCounts(r.hosts(stage: s.name)))),
            ("gate_after", .text(r.gates[s.name]?.rawValue)),
            (
                "batches",
                .array(
                    s.batches.enumerated().map { i, hosts in
                        .object([
                            ("number", .int(i + 1)),
                            ("hosts", .array(hosts.map(JSON.string))),
                            ("halt_at_failures", .int(i < s.haltAt.count ? s.haltAt[i] : 0)),
                            ("summary", summary(StatusCounts(r.hosts(stage: s.name, batch: i + 1)))),
                        ])
                    })
            ),
        ])
    }

    static func host(_ h: HostRecord) -> JSON {
        let result = h.result
        return .object([
            ("host", .string(h.host)),
            ("stage", .string(h.stage)),
            ("batch", .int(h.batch)),
            ("state", .string(h.state.rawValue)),
            ("status", .string(HostStatus(h).label)),
            ("outcome", .text(result?.outcome.rawValue)),
            ("version_before", .text(result?.versionBefore)),
            ("version_after", .text(result?.versionAfter)),
            ("path", .array((result?.path ?? []).map(JSON.string))),
            ("message", .text(result?.message)),
            ("restore", .text(result?.restore)),
            ("started_at", .time(h.startedAt)),
            ("finished_at", .time(h.finishedAt)),
            ("duration_ms", .int(h.durationMs)),
            ("in_flight_step", h.inFlightStep.map(stepRef) ?? .null),
            ("steps", .array(h.steps.map(step))),
            ("health", .array(h.health.map(health))),
        ])
    }

    static func stepRefFields(_ s: StepRef) -> [(String, JSON)] {
        [
            ("phase", .string(s.phase.rawValue)),
            ("from", .string(s.from)),
            ("to", .string(s.to)),
            ("index", .int(s.index)),
            ("name", .string(s.name)),
            ("command", .string(s.command)),
            ("release", .text(s.release)),
            ("attempt", .int(s.attempt)),
        ]
    }

    static func stepRef(_ s: StepRef) -> JSON { .object(stepRefFields(s)) }

    static func step(_ s: StepRecord) -> JSON {
        .object(
            stepRefFields(s.step) + [
                ("succeeded", .bool(s.succeeded)),
                ("result", .string(s.outcomeText)),
                ("exit_status", .int(s.exitStatus.map { Int($0) })),
                ("signal", .text(s.signal)),
                ("timed_out", .bool(s.timedOut)),
                ("error", .text(s.error)),
                ("duration_ms", .int(s.durationMs)),
                ("stdout", .string(s.stdout)),
                ("stderr", .string(s.stderr)),
            ])
    }

    static func health(_ c: HealthRecord) -> JSON {
        .object([
            ("context", .string(c.context)),
            ("healthy", .bool(c.healthy)),
            ("duration_ms", .int(c.durationMs)),
            (
                "probes",
                .array(
                    c.probes.map { p in
                        .object([
                            ("target", .string(p.target)),
                            ("expectation", .string(p.expectation)),
                            ("healthy", .bool(p.healthy)),
                            ("verdict", .string(p.verdict)),
                            ("logs", .text(p.logs)),
                            (
                                "attempts",
                                .array(
                                    p.attempts.map { a in
                                        .object([
                                            ("at_ms", .int(a.atMs)), ("duration_ms", .int(a.durationMs)), ("passed", .bool(a.passed)),
                                            ("detail", .string(a.detail)),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
        ])
    }
}
