import FleetCore
import Foundation
import Yams

extension PlaybookReader {
    static let stepKeys = ["name", "run", "upload", "when", "become", "become_user", "timeout", "retries", "no_return", "chdir"]
    static let probeKeys = [
        "http", "tcp", "command", "expect", "initial_delay", "period", "timeout",
        "success_threshold", "failure_threshold", "deadline", "logs",
    ]
    static let marker = "release_steps"

    // MARK: rolling

    mutating func readRolling(_ node: Node) -> RolloutPolicy {
        var p = RolloutPolicy()
        guard let m = nodes.mapping(node, "rolling") else { return p }
        nodes.checkKeys(
            m, allowed: ["batch", "order", "seed", "max_fail_percentage", "max_failures", "pause", "gate", "spread"], "rolling: ",
            hints: [
                "serial": "fleetup calls Ansible's serial batch:",
                "any_errors_fatal": "fleetup says it as max_fail_percentage: 0 (any failed host halts the run)",
            ])
        for e in m {
            switch e.key {
            case "batch":
                if let b = readBatch(e.value) { p.batch = b }
            case "order":
                if let t = nodes.text(e.value, "rolling.order") {
                    let alias = t == "reverse_inventory" ? "reverse" : t
                    if let o = HostOrder(rawValue: alias) {
                        p.order = o
                    } else {
                        nodes.fail(
                            e.value,
                            "rolling.order: \"\(t)\" is not an order (expected \(PlaybookNodes.orList(HostOrder.allCases.map(\.rawValue))))"
                        )
                    }
                }
            case "seed":
                if let n = nodes.int(e.value, "rolling.seed", in: 0...Int.max) { p.seed = UInt64(n) }
            case "max_fail_percentage":
                // "25%" reads as 25; a bad one is quoted as written ("29.9%", not "29.9").
                var v = e.value
                if let s = v.scalar, s.string.hasSuffix("%"), let n = Int(s.string.dropLast()), (0...100).contains(n) {
                    v = .scalar(.init(String(n), s.tag, .plain, s.mark))
                }
                if let n = nodes.int(v, "rolling.max_fail_percentage", in: 0...100, expected: "a whole percentage from 0 to 100") {
                    p.maxFailPercentage = n
                }
            case "max_failures":
                if !PlaybookNodes.isNull(e.value) { p.maxFailures = nodes.int(e.value, "rolling.max_failures", in: 0...Int.max) }
            case "pause":
                if let d = nodes.duration(e.value, "rolling.pause") { p.pause = d }
            case "gate":
                if let g = readGate(e.value) { p.gate = g }
            case "spread":
                lines["rolling.spread"] = e.keyNode.mark?.line
                p.spread = readSpread(e.value)
            default: break
            }
        }
        return p
    }

    /// `{by: cluster, max_per_batch: 1}`, or `by: group zone_*` for the group a host is in
    /// among those whose names start with `zone_`.
    mutating func readSpread(_ node: Node) -> SpreadLimit? {
        guard let m = nodes.mapping(node, "rolling.spread") else { return nil }
        nodes.checkKeys(
            m, allowed: ["by", "max_per_batch"], "rolling.spread: ",
            hints: ["max_down": "fleetup limits hosts per batch only, with max_per_batch"])
        var key: SpreadLimit.Key?
        var limit: Int?
        for e in m {
            switch e.key {
            case "by":
                guard let t = nodes.text(e.value, "rolling.spread.by") else { continue }
                if t.hasPrefix("group ") {
                    let glob = t.dropFirst("group ".count).trimmingCharacters(in: .whitespaces)
                    guard glob.hasSuffix("*"), glob.count > 1, !glob.dropLast().contains("*") else {
                        nodes.fail(
                            e.value,
                            "rolling.spread.by: \"\(t)\": expected group PREFIX* (a group name's start, then *, e.g. group zone_*)")
                        continue
                    }
                    key = .groupPrefix(String(glob.dropLast()))
                } else if Template.isName(t) {
                    key = .variable(t)
                } else {
                    nodes.fail(
                        e.value,
                        "rolling.spread.by: \"\(t)\" is neither a variable name nor group PREFIX* (e.g. by: cluster, or by: group zone_*)")
                }
            case "max_per_batch":
                limit = nodes.int(e.value, "rolling.spread.max_per_batch", in: 1...Int.max)
            default: break
            }
        }
        if !m.contains(where: { $0.key == "by" }) { nodes.fail(node, "rolling.spread: missing by: (a host variable, or group PREFIX*)") }
        if !m.contains(where: { $0.key == "max_per_batch" }) {
            nodes.fail(node, "rolling.spread: missing max_per_batch: (how many hosts of one key a batch may hold)")
        }
        guard let key, let limit else { return nil }
        return SpreadLimit(by: key, maxPerBatch: limit)
    }

    /// `5`, `"25%"`, or a ramp `[1, 5, "20%"]`.
    mutating func readBatch(_ node: Node) -> [BatchSize]? {
        let items: [Node] = node.sequence.map { Array($0) } ?? [node]
        if items.isEmpty {
            nodes.fail(node, "rolling.batch: expected a batch size or a list of them, got an empty list")
            return nil
        }
        var out: [BatchSize] = []
        for item in items {
            guard let s = item.scalar, !PlaybookNodes.isNull(item) else {
                nodes.fail(
                    item, "rolling.batch: expected a number of hosts or a percentage such as \"25%\", got \(PlaybookNodes.kind(item))")
                return nil
            }
            let t = s.string.trimmingCharacters(in: .whitespaces)
            if t.hasSuffix("%") {
                guard let p = Int(t.dropLast()), (1...100).contains(p) else {
                    nodes.fail(item, "rolling.batch: \"\(t)\" is not a batch percentage (expected a whole percentage from 1% to 100%)")
                    return nil
                }
                out.append(.percent(p))
            } else if let n = Int(t), n >= 0 {
                out.append(.count(n))
            } else {
                nodes.fail(
                    item,
                    "rolling.batch: \"\(t)\" is not a batch size (expected a number of hosts, 0 for all at once, or a percentage such as \"25%\")"
                )
                return nil
            }
        }
        return out
    }

    /// `none`, `manual`, `soak 10m` (or `{soak: 10m}`).
    mutating func readGate(_ node: Node) -> StageGate? {
        let expected = "expected none, manual or soak DURATION, e.g. soak 10m"
        if let m = node.mapping, m.count == 1, let (k, v) = m.first, k.scalar?.string == "soak" {
            return nodes.duration(v, "rolling.gate: soak").map { .soak($0) }
        }
        guard let t = nodes.text(node, "rolling.gate") else { return nil }
        switch t {
        case "none": return StageGate.none
        case "manual": return .manual
        default:
            let words = t.split(separator: " ", maxSplits: 1)
            if words.count == 2, words[0] == "soak" {
                switch DurationText.read(String(words[1])) {
                case .success(let d): return .soak(d)
                case .failure(.tooLong):
                    nodes.fail(node, "rolling.gate: soak \(words[1]): \(DurationText.expected(.tooLong))")
                    return nil
                case .failure(.notADuration): break
                }
            }
            nodes.fail(node, "rolling.gate: \"\(t)\" is not a gate (\(expected))")
            return nil
        }
    }

    // MARK: steps

    mutating func readSteps(_ node: Node) -> [StepEntry] {
        guard let seq = node.sequence else {
            nodes.fail(node, "steps: expected a list of steps, got \(PlaybookNodes.kind(node))")
            return []
        }
        var out: [StepEntry] = []
        var markerSeen = false
        for (i, item) in seq.enumerated() {
            if let s = item.scalar, !PlaybookNodes.isNull(item) {
                if s.string == Self.marker {
                    if markerSeen { nodes.fail(item, "steps: release_steps is listed twice (the releases' steps run in one place)") }
                    markerSeen = true
                    out.append(.releaseSteps(line: item.mark?.line))
                } else {
                    nodes.fail(
                        item,
                        "step \(i + 1): \"\(s.string)\" is not a step (expected a mapping with name and run or upload, or release_steps)")
                }
                continue
            }
            if let step = readStep(item, "", index: i, release: nil, allowShorthand: false) { out.append(.step(step)) }
        }
        return out
    }

    /// `prefix` starts every message (`release v3.1.0: `, `rollback: `).
    mutating func readStepList(_ node: Node, _ prefix: String, release: String?, allowShorthand: Bool) -> [Step?] {
        guard let seq = node.sequence else {
            nodes.fail(node, "\(prefix)expected a list of steps, got \(PlaybookNodes.kind(node))")
            return []
        }
        return seq.enumerated().map { readStep($1, prefix, index: $0, release: release, allowShorthand: allowShorthand) }
    }

    /// A step mapping; in a release's steps a plain string is a `run:` of its own.
    mutating func readStep(_ node: Node, _ prefix: String, index: Int, release: String?, allowShorthand: Bool) -> Step? {
        if let s = node.scalar, !PlaybookNodes.isNull(node) {
            guard allowShorthand else {
                nodes.fail(
                    node, "\(prefix)step \(index + 1): \"\(s.string)\" is not a step (expected a mapping with name and run or upload)")
                return nil
            }
            if s.string == Self.marker {
                nodes.fail(node, "\(prefix)step \(index + 1): release_steps belongs in the playbook's steps:, not here")
                return nil
            }
            guard let t = nodes.template(node, "\(prefix)step \(index + 1)") else { return nil }
            return Step(name: "", action: .run(t), line: node.mark?.line)
        }
        guard let m = nodes.mapping(node, "\(prefix)step \(index + 1)") else { return nil }
        let entry = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let givenName = entry["name"].flatMap { nodes.text($0, "\(prefix)step \(index + 1): name") }
        let label = givenName.map { "\(prefix)step \"\($0)\"" } ?? "\(prefix)step \(index + 1)"
        nodes.checkKeys(
            m, allowed: Self.stepKeys, "\(label): ",
            hints: [
                "shell": "fleetup's command is run:", "command": "fleetup's command is run:",
                "copy": "fleetup copies files with upload:", "noreturn": "write no_return:",
            ])
        let errorsBefore = nodes.errors.count
        var action: StepAction?
        switch (entry["run"], entry["upload"]) {
        case (let r?, nil):
            if let t = nodes.template(r, "\(label): run") { action = .run(t) }
        case (nil, let u?):
            action = readUpload(u, label)
        case (.some, .some):
            nodes.fail(node, "\(label): has both run and upload (expected one of them)")
        case (nil, nil):
            nodes.fail(node, "\(label): expected run: (a command) or upload: (a file to copy)")
        }
        var step = Step(name: givenName ?? "", action: action ?? .run(Template(literal: "")), line: node.mark?.line)
        if let w = entry["when"] { step.when = readWhen(w, label) }
        if let b = entry["become"] { step.become = nodes.bool(b, "\(label): become") }
        if let u = entry["become_user"] {
            step.becomeUser = nodes.template(u, "\(label): become_user")
            // Naming the user means running as them: `become_user` alone is not the silent
            // no-op it is in Ansible; `become: false` beside it is a contradiction.
            if step.become == false {
                nodes.fail(u, "\(label): become_user with become: false (drop one: become_user implies become)")
            }
            step.become = true
        }
        if let t = entry["timeout"] { step.timeout = nodes.duration(t, "\(label): timeout") }
        if let r = entry["retries"] { step.retries = nodes.int(r, "\(label): retries", in: 0...100) ?? 0 }
        if let n = entry["no_return"] { step.noReturn = nodes.bool(n, "\(label): no_return") ?? false }
        if let c = entry["chdir"] { step.chdir = nodes.template(c, "\(label): chdir") }
        return nodes.errors.count == errorsBefore ? step : nil
    }

    mutating func readUpload(_ node: Node, _ label: String) -> StepAction? {
        guard let m = nodes.mapping(node, "\(label): upload") else { return nil }
        nodes.checkKeys(m, allowed: ["src", "dest", "mode"], "\(label): upload: ")
        let entry = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let sn = entry["src"], let dn = entry["dest"] else {
            nodes.fail(node, "\(label): upload: expected src: (a local file) and dest: (the path on the host)")
            return nil
        }
        let src = nodes.template(sn, "\(label): upload.src"), dest = nodes.template(dn, "\(label): upload.dest")
        var mode = 0o644
        if let mn = entry["mode"] {
            // Octal with a leading 0, as chmod reads it: plain 0644 (YAML 1.1 octal) or "0644".
            // A plain 644 would be decimal 644 (Ansible's known trap): refused.
            if let s = mn.scalar, s.string.hasPrefix("0") || s.style != .plain, let v = Int(s.string, radix: 8), (0...0o7777).contains(v) {
                mode = v
            } else {
                nodes.fail(
                    mn, "\(label): upload.mode: expected a file mode in octal with a leading 0, such as 0644, got \(PlaybookNodes.kind(mn))"
                )
            }
        }
        guard let src, let dest else { return nil }
        return .upload(source: src, destination: dest, mode: mode)
    }

    mutating func readWhen(_ node: Node, _ label: String) -> [StepCondition] {
        var out: [StepCondition] = []
        for (t, n) in nodes.texts(node, "\(label): when") ?? [] {
            guard let c = StepCondition(t) else {
                nodes.fail(
                    n,
                    "\(label): when: \"\(t)\" is not a condition (expected NAME, not NAME, NAME == \"text\" or NAME != \"text\"; a list means all of them)"
                )
                continue
            }
            if flags.contains(c.name) { flagsUsed.insert(c.name) }
            out.append(c)
        }
        return out
    }

    // MARK: health

    mutating func readHealth(_ node: Node) -> [HealthProbe] {
        guard let seq = node.sequence else {
            nodes.fail(node, "health: expected a list of probes, got \(PlaybookNodes.kind(node))")
            return []
        }
        var out: [HealthProbe] = []
        for (i, item) in seq.enumerated() {
            if let p = readProbe(item, "health[\(i + 1)]") { out.append(p) }
        }
        return out
    }

    mutating func readProbe(_ node: Node, _ path: String) -> HealthProbe? {
        guard let m = nodes.mapping(node, path) else { return nil }
        nodes.checkKeys(
            m, allowed: Self.probeKeys, "\(path): ",
            hints: [
                "interval": "Kubernetes calls it period:", "initialDelaySeconds": "write initial_delay:",
                "periodSeconds": "write period:", "url": "write http: URL",
            ])
        let entry = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let errorsBefore = nodes.errors.count
        let kinds = ["http", "tcp", "command"].filter { entry[$0] != nil }
        guard kinds.count == 1 else {
            nodes.fail(
                node,
                kinds.isEmpty
                    ? "\(path): expected one of http:, tcp: or command:"
                    : "\(path): has \(kinds.joined(separator: " and ")) (expected one kind per probe)")
            return nil
        }
        var probe = HealthProbe(kind: .command(Template(literal: "")), line: node.mark?.line)
        switch kinds[0] {
        case "http":
            guard let t = nodes.template(entry["http"]!, "\(path): http") else { return nil }
            // A literal is checked now; a template per host by PlaybookCheck, with the same parser.
            if let text = literalText(t) {
                do { _ = try ProbeAddress.url(text) } catch { nodes.fail(entry["http"], "\(path): http: \(error.message)") }
            }
            probe.kind = .http(url: t)
        case "tcp":
            guard let t = nodes.template(entry["tcp"]!, "\(path): tcp") else { return nil }
            if let text = literalText(t) {
                do { _ = try ProbeAddress.tcp(text) } catch { nodes.fail(entry["tcp"], "\(path): tcp: \(error.message)") }
            }
            probe.kind = .tcp(address: t)
        default:
            guard let t = nodes.template(entry["command"]!, "\(path): command") else { return nil }
            probe.kind = .command(t)
        }
        for t in probeTemplates(probe) {
            if let f = t.variables.first(where: { ["from", "to", "release"].contains($0) }) {
                nodes.fail(node, "\(path): cannot use \"\(f)\" (probes run after every hop; use host or target)")
            }
        }
        if let e = entry["expect"] {
            if case .http = probe.kind {} else { nodes.fail(e, "\(path): expect: applies to http probes only") }
            if let em = nodes.mapping(e, "\(path): expect") {
                nodes.checkKeys(em, allowed: ["status", "body_contains"], "\(path): expect: ")
                for x in em {
                    if x.key == "status" {
                        let items: [Node] = x.value.sequence.map { Array($0) } ?? [x.value]
                        probe.expectStatus = items.compactMap {
                            nodes.int($0, "\(path): expect.status", in: 100...599, expected: "an HTTP status from 100 to 599")
                        }
                    } else if x.key == "body_contains" {
                        probe.bodyContains = nodes.template(x.value, "\(path): expect.body_contains")
                    }
                }
            }
        }
        for (key, set) in [
            ("initial_delay", \ProbeTiming.initialDelay), ("period", \.period), ("timeout", \.timeout), ("deadline", \.deadline),
        ] as [(String, WritableKeyPath<ProbeTiming, Duration>)] {
            if let n = entry[key], let d = nodes.duration(n, "\(path): \(key)") { probe.timing[keyPath: set] = d }
        }
        for (key, set) in [("success_threshold", \ProbeTiming.successThreshold), ("failure_threshold", \.failureThreshold)]
            as [(String, WritableKeyPath<ProbeTiming, Int>)]
        {
            if let n = entry[key], let v = nodes.int(n, "\(path): \(key)", in: 1...1000) { probe.timing[keyPath: set] = v }
        }
        if probe.timing.period == .zero { nodes.fail(entry["period"], "\(path): period: expected a duration above 0") }
        if probe.timing.timeout == .zero { nodes.fail(entry["timeout"], "\(path): timeout: expected a duration above 0") }
        if let l = entry["logs"] { probe.logs = nodes.template(l, "\(path): logs") }
        return nodes.errors.count == errorsBefore ? probe : nil
    }

    /// A template without variables as the text it renders to (`{{ 'x' }}` is `x`).
    func literalText(_ t: Template) -> String? {
        guard t.isLiteral else { return nil }
        return try? TemplateScope(vars: [:]).render(t, as: .text).text
    }

    func probeTemplates(_ p: HealthProbe) -> [Template] {
        var out: [Template] = []
        switch p.kind {
        case .http(let t), .tcp(let t), .command(let t): out.append(t)
        }
        if let b = p.bodyContains { out.append(b) }
        if let l = p.logs { out.append(l) }
        return out
    }
}
