import FleetCore

/// Renders a `RolloutPlan` (`fleetup plan`): text for people, JSON (`fleetup.plan/1`,
/// docs/playbooks.md) for programs. Only displays of commands are written, never scripts,
/// so secrets show as `[REDACTED]`.
public enum PlanReport {
    // MARK: text

    /// `forks`: the run's `--forks`; a batch bigger than it says what that means for its halt.
    public static func text(_ plan: RolloutPlan, forks: Int? = nil) -> String {
        var out = header(plan)
        out += "\n" + policy(plan)
        for (i, stage) in plan.stages.enumerated() {
            out += "\n" + stageText(stage, number: i + 1, of: plan.stages.count, plan: plan, forks: forks)
        }
        out += hops(plan)
        out += health(plan)
        out += "\n" + summary(plan) + "\n"
        return out
    }

    static func header(_ plan: RolloutPlan) -> String {
        let targetFrom = plan.targetFromCommandLine ? "--target" : "the playbook's target"
        let count = plan.hosts.count
        var s = "plan: \(plan.playbook) (\(plan.playbookFile)) to \(plan.target) (\(targetFrom)), path \(plan.path.rawValue)\n"
        s += "hosts: \"\(plan.hostsPattern)\"\(plan.limit.map { " with --limit \"\($0)\"" } ?? ""): "
        s += "\(count) \(count == 1 ? "host" : "hosts") in \(plan.stages.count) \(plan.stages.count == 1 ? "stage" : "stages")\n"
        switch plan.versionSource {
        case .detected: s += "versions: read from the hosts with the playbook's version command (--detect)\n"
        default: s += "versions: from the inventory (\("current_version")); --detect reads them from the hosts\n"
        }
        return s
    }

    static func policy(_ plan: RolloutPlan) -> String {
        let p = plan.policy
        var s = "failure policy\n"
        s += "  a host fails when a step exits non-zero or times out, when it is unreachable or refuses\n"
        s += "  authentication, or when its health check fails after the upgrade\n"
        if p.maxFailPercentage >= 100 {
            s += "  a batch never halts the run on its own failures (max_fail_percentage 100)\n"
        } else {
            s +=
                "  a batch halts the run when more than \(p.maxFailPercentage)% of its hosts fail (max_fail_percentage \(p.maxFailPercentage))\n"
        }
        if let m = p.maxFailures {
            s += "  the run halts when more than \(m) \(m == 1 ? "host fails" : "hosts fail") in all (max_failures \(m)): at \(m + 1)\n"
        } else {
            s += "  no limit on failures across the run (max_failures is not set)\n"
        }
        s += "  on a halt no new host starts, hosts in flight finish their upgrade and health check,\n"
        s += "  and no later batch or stage starts\n"
        let pause = p.pause == .zero ? "no pause" : "pause \(DurationText.format(p.pause))"
        let gate: String
        switch p.gate {
        case .none: gate = "no gate (the next stage starts when the previous one passed)"
        case .manual: gate = "manual gate (asks on the terminal; --approve STAGE or --yes otherwise)"
        case .soak(let d): gate = "soak \(DurationText.format(d)), then the stage's health is checked again"
        }
        s += "  between batches: \(pause); between stages: \(gate)\n"
        s +=
            "  batch sizes: \(p.batch.map(\.description).joined(separator: ", "))\(p.batch.count > 1 ? " (the last repeats)" : ""); order: \(p.order.rawValue)"
        s += p.order == .shuffle ? " (seed \(p.seed))\n" : "\n"
        if let spread = p.spread {
            s +=
                "  spread by \(spread.by): at most \(spread.maxPerBatch) \(spread.maxPerBatch == 1 ? "host" : "hosts") of one key in a batch; "
            s += "a host over it waits for the next batch\n"
        }
        return s
    }

    static func stageText(_ stage: PlannedStage, number: Int, of total: Int, plan: RolloutPlan, forks: Int? = nil) -> String {
        let n = stage.hostCount
        var s =
            "stage \(number) of \(total): \(stage.name), \(n) \(n == 1 ? "host" : "hosts") in \(stage.batches.count) \(stage.batches.count == 1 ? "batch" : "batches")\n"
        if stage.batches.isEmpty { s += "  no hosts (--limit leaves none)\n" }
        let byName = Dictionary(plan.hosts.map { ($0.host, $0) }, uniquingKeysWith: { a, _ in a })
        let width = stage.batches.flatMap(\.hosts).map(\.count).max() ?? 0
        for (b, batch) in stage.batches.enumerated() {
            let k = batch.hosts.count
            let halt =
                batch.haltAt > k
                ? "never halts on its own failures" : "halts at \(batch.haltAt) \(batch.haltAt == 1 ? "failure" : "failures")"
            // --forks below the batch: the threshold stays the whole batch's, and a halt keeps
            // the batch's hosts not yet started from starting.
            let inFlight =
                forks.map { f in
                    f < k ? "; \(f) at a time (--forks \(f)): hosts of the batch not started when it halts never start" : ""
                } ?? ""
            s += "  batch \(b + 1): \(k) \(k == 1 ? "host" : "hosts"), \(halt)\(inFlight)\n"
            for name in batch.hosts {
                guard let h = byName[name] else { continue }
                s += "    " + name.padding(width) + "  " + hostLine(h, target: plan.target) + "\n"
            }
            for d in batch.deferred { s += "    \(d)\n" }
        }
        return s
    }

    static func hostLine(_ h: HostPlan, target: String) -> String {
        switch h.outcome {
        case .upgrade(let hops): return ([hops[0].from] + hops.map(\.to)).joined(separator: " -> ")
        case .alreadyCurrent: return "\(h.version ?? target): already at the target, skipped"
        case .unknownVersion: return "version unknown (no current_version; --detect reads it, run detects it first)"
        case .error(let e): return "\(h.version.map { "\($0): " } ?? "")error: \(e)"
        }
    }

    /// Each distinct hop once, with the hosts that take it, in the order hosts first take them.
    static func hops(_ plan: RolloutPlan) -> String {
        var order: [Hop] = []
        var hosts: [Hop: [String]] = [:]
        for h in plan.hosts {
            for hop in h.hops {
                if hosts[hop] == nil { order.append(hop) }
                hosts[hop, default: []].append(h.host)
            }
        }
        guard !order.isEmpty else { return "" }
        var s = "\nhops (each distinct hop once, with the hosts that take it)\n"
        for hop in order {
            let names = hosts[hop]!
            s += "\nhop \(hop.from) -> \(hop.to)"
            if hop.releases.count > 1 || hop.releases.first != hop.to { s += " (releases \(hop.releases.joined(separator: ", ")))" }
            s += " on \(names.count) \(names.count == 1 ? "host" : "hosts"): \(HostList.compress(names))\n"
            if !hop.flags.isEmpty { s += "  flags: \(hop.flags.joined(separator: ", "))\n" }
            s += stepList(hop.steps, indent: "  ")
            for k in hop.skipped {
                s += "  -  \(k.name): skipped (\(k.reason))\(k.release.map { ", release \($0)" } ?? "")\n"
            }
            if !hop.rollback.isEmpty {
                let point = hop.pointOfNoReturn.map { "before step \($0 + 1) (\"\(hop.steps[$0].name)\")" } ?? "at any step"
                s += "  rollback, when the hop fails \(point):\n"
                s += stepList(hop.rollback, indent: "  ", prefix: "r")
            }
        }
        return s
    }

    static func stepList(_ steps: [PlannedStep], indent: String, prefix: String = "") -> String {
        var s = ""
        for (i, step) in steps.enumerated() {
            var marks: [String] = []
            if step.become { marks.append(step.becomeUser.map { "become \($0)" } ?? "become") }
            if let t = step.timeout { marks.append("timeout \(DurationText.format(t))") }
            if step.retries > 0 { marks.append("retries \(step.retries)") }
            if step.noReturn { marks.append("point of no return") }
            if let r = step.release { marks.append("from release \(r)") }
            s += "\(indent)\(prefix)\(i + 1). \(step.name)\(marks.isEmpty ? "" : "  [\(marks.joined(separator: ", "))]")\n"
            for line in step.action.display.split(separator: "\n", omittingEmptySubsequences: false) {
                s += "\(indent)     \(line)\n"
            }
        }
        return s
    }

    static func health(_ plan: RolloutPlan) -> String {
        var order: [[PlannedProbe]] = []
        var hosts: [[PlannedProbe]: [String]] = [:]
        for h in plan.hosts where !h.health.isEmpty {
            if hosts[h.health] == nil { order.append(h.health) }
            hosts[h.health, default: []].append(h.host)
        }
        guard !order.isEmpty else { return "\nhealth: no probes (a host counts as healthy when its steps succeeded)\n" }
        var s = "\nhealth, after every hop\n"
        for probes in order {
            let names = hosts[probes]!
            if order.count > 1 { s += "  on \(HostList.compress(names)):\n" }
            for p in probes {
                let t = p.timing
                s += "  \(p.target): \(p.expectation)\n"
                s += "    every \(DurationText.format(t.period))"
                if t.initialDelay != .zero { s += " after \(DurationText.format(t.initialDelay))" }
                s +=
                    ", timeout \(DurationText.format(t.timeout)); healthy after \(t.successThreshold) \(t.successThreshold == 1 ? "pass" : "passes") in a row, "
                s +=
                    "unhealthy after \(t.failureThreshold) \(t.failureThreshold == 1 ? "failure" : "failures") in a row or \(DurationText.format(t.deadline))\n"
                if let l = p.logs { s += "    logs on failure: \(l.display)\n" }
            }
        }
        return s
    }

    /// `9 hosts: 5 to upgrade (11 hops), 1 already at 5.3.0, 1 version unknown, 2 errors`.
    public static func summary(_ plan: RolloutPlan) -> String {
        var upgrade = 0, hops = 0, current = 0, unknown = 0, errors = 0
        for h in plan.hosts {
            switch h.outcome {
            case .upgrade(let x): upgrade += 1; hops += x.count
            case .alreadyCurrent: current += 1
            case .unknownVersion: unknown += 1
            case .error: errors += 1
            }
        }
        var parts = ["\(upgrade) to upgrade (\(hops) \(hops == 1 ? "hop" : "hops"))", "\(current) already at \(plan.target)"]
        if unknown > 0 { parts.append("\(unknown) with the version unknown") }
        parts.append("\(errors) \(errors == 1 ? "error" : "errors")")
        return "summary: \(plan.hosts.count) \(plan.hosts.count == 1 ? "host" : "hosts"): " + parts.joined(separator: ", ")
    }
}

extension String {
    /// Padded with spaces to `width` characters.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
