import FleetCore

extension PlanReport {
    /// `fleetup.plan/1`: keys in a fixed order, absent values as null.
    public static func json(_ plan: RolloutPlan) -> String {
        let p = plan.policy
        let gate: JSON
        switch p.gate {
        case .none: gate = .object([("kind", .string("none"))])
        case .manual: gate = .object([("kind", .string("manual"))])
        case .soak(let d): gate = .object([("kind", .string("soak")), ("seconds", .number(DurationText.seconds(d)))])
        }
        let doc = JSON.object([
            ("schema", .string("fleetup.plan/1")),
            ("playbook", .string(plan.playbook)),
            ("playbook_file", .string(plan.playbookFile)),
            ("hosts_pattern", .string(plan.hostsPattern)),
            ("limit", plan.limit.map(JSON.string) ?? .null),
            ("target", .string(plan.target)),
            ("target_from", .string(plan.targetFromCommandLine ? "command-line" : "playbook")),
            ("path", .string(plan.path.rawValue)),
            ("versions_from", .string(plan.versionSource == .detected ? "detect" : "inventory")),
            (
                "policy",
                .object([
                    (
                        "batch",
                        .array(
                            p.batch.map { b in
                                switch b {
                                case .count(let n): return .number(Double(n))
                                case .percent: return .string(b.description)
                                }
                            })
                    ),
                    ("order", .string(p.order.rawValue)),
                    ("seed", .number(Double(p.seed))),
                    ("max_fail_percentage", .number(Double(p.maxFailPercentage))),
                    ("max_failures", p.maxFailures.map { .number(Double($0)) } ?? .null),
                    ("pause_seconds", .number(DurationText.seconds(p.pause))),
                    ("gate", gate),
                    (
                        "spread",
                        p.spread.map {
                            .object([("by", .string($0.by.description)), ("max_per_batch", .number(Double($0.maxPerBatch)))])
                        } ?? .null
                    ),
                ])
            ),
            (
                "stages",
                .array(
                    plan.stages.map { st in
                        .object([
                            ("name", .string(st.name)),
                            (
                                "batches",
                                .array(
                                    st.batches.enumerated().map { i, b in
                                        .object([
                                            ("number", .number(Double(i + 1))), ("hosts", .array(b.hosts.map(JSON.string))),
                                            ("halt_at_failures", .number(Double(b.haltAt))),
                                            (
                                                "deferred",
                                                .array(
                                                    b.deferred.map {
                                                        .object([("host", .string($0.host)), ("reason", .string($0.reason))])
                                                    })
                                            ),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
            ("hosts", .array(plan.hosts.map(hostJSON))),
            ("summary", summaryJSON(plan)),
        ])
        return doc.render() + "\n"
    }

    static func hostJSON(_ h: HostPlan) -> JSON {
        let outcome: String
        var error: JSON = .null
        switch h.outcome {
        case .upgrade: outcome = "upgrade"
        case .alreadyCurrent: outcome = "already-current"
        case .unknownVersion: outcome = "unknown-version"
        case .error(let e): outcome = "error"; error = .string(e)
        }
        let hops = h.hops
        return .object([
            ("host", .string(h.host)),
            ("stage", .string(h.stage)),
            ("batch", .number(Double(h.batch))),
            ("version", h.version.map(JSON.string) ?? .null),
            ("version_source", h.versionSource == .none ? .null : .string(h.versionSource.rawValue)),
            ("outcome", .string(outcome)),
            ("error", error),
            ("path", hops.isEmpty ? .array([]) : .array(([hops[0].from] + hops.map(\.to)).map(JSON.string))),
            (
                "hops",
                .array(
                    hops.map { hop in
                        .object([
                            ("from", .string(hop.from)), ("to", .string(hop.to)),
                            ("releases", .array(hop.releases.map(JSON.string))),
                            ("flags", .array(hop.flags.map(JSON.string))),
                            ("steps", .array(hop.steps.map(stepJSON))),
                            (
                                "skipped",
                                .array(
                                    hop.skipped.map { k in
                                        .object([
                                            ("name", .string(k.name)), ("reason", .string(k.reason)),
                                            ("release", k.release.map(JSON.string) ?? .null),
                                        ])
                                    })
                            ),
                            ("rollback", .array(hop.rollback.map(stepJSON))),
                        ])
                    })
            ),
            ("health", .array(h.health.map(probeJSON))),
        ])
    }

    static func stepJSON(_ s: PlannedStep) -> JSON {
        var fields: [(String, JSON)] = [("name", .string(s.name))]
        switch s.action {
        case .run(let c):
            fields += [("kind", .string("run")), ("command", .string(c.display))]
        case .upload(let u):
            fields += [
                ("kind", .string("upload")), ("src", .string(u.sourceDisplay)), ("dest", .string(u.destinationDisplay)),
                ("mode", .string(u.modeText)),
            ]
        }
        fields += [
            ("become", .bool(s.become)),
            ("become_user", s.becomeUser.map(JSON.string) ?? .null),
            ("timeout_seconds", s.timeout.map { .number(DurationText.seconds($0)) } ?? .null),
            ("retries", .number(Double(s.retries))),
            ("no_return", .bool(s.noReturn)),
            ("release", s.release.map(JSON.string) ?? .null),
            ("line", s.line.map { .number(Double($0)) } ?? .null),
        ]
        return .object(fields)
    }

    static func probeJSON(_ p: PlannedProbe) -> JSON {
        var fields: [(String, JSON)]
        switch p.kind {
        case .http(let host, let port, let path):
            fields = [
                ("kind", .string("http")), ("host", .string(host)), ("port", .number(Double(port))), ("path", .string(path)),
                ("expect_status", p.expectStatus.map { .array($0.map { .number(Double($0)) }) } ?? .null),
                ("body_contains", p.bodyContains.map(JSON.string) ?? .null),
            ]
        case .tcp(let host, let port):
            fields = [("kind", .string("tcp")), ("host", .string(host)), ("port", .number(Double(port)))]
        case .command(let c):
            fields = [("kind", .string("command")), ("command", .string(c.display))]
        }
        let t = p.timing
        fields += [
            ("initial_delay_seconds", .number(DurationText.seconds(t.initialDelay))),
            ("period_seconds", .number(DurationText.seconds(t.period))),
            ("timeout_seconds", .number(DurationText.seconds(t.timeout))),
            ("success_threshold", .number(Double(t.successThreshold))),
            ("failure_threshold", .number(Double(t.failureThreshold))),
            ("deadline_seconds", .number(DurationText.seconds(t.deadline))),
            ("logs", p.logs.map { .string($0.display) } ?? .null),
        ]
        return .object(fields)
    }

    static func summaryJSON(_ plan: RolloutPlan) -> JSON {
        var c = ["upgrade": 0, "already-current": 0, "unknown-version": 0, "error": 0]
        var hops = 0
        for h in plan.hosts {
            switch h.outcome {
            case .upgrade(let x): c["upgrade"]! += 1; hops += x.count
            case .alreadyCurrent: c["already-current"]! += 1
            case .unknownVersion: c["unknown-version"]! += 1
            case .error: c["error"]! += 1
            }
        }
        return .object([
            ("hosts", .number(Double(plan.hosts.count))), ("upgrade", .number(Double(c["upgrade"]!))),
            ("already_current", .number(Double(c["already-current"]!))), ("unknown_version", .number(Double(c["unknown-version"]!))),
            ("error", .number(Double(c["error"]!))), ("hops", .number(Double(hops))),
        ])
    }
}
