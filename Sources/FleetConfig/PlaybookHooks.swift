import FleetCore
import Yams

/// `hooks:` (docs/playbooks.md, "Hooks"): for each point of the run, a list of local
/// commands — `{name, run, timeout, env}`, or just the command as a string.
extension PlaybookReader {
    static let hookKeys = ["name", "run", "timeout", "env"]

    mutating func readHooks(_ node: Node) -> [HookPoint: [HookSpec]] {
        guard let m = nodes.mapping(node, "hooks") else { return [:] }
        var out: [HookPoint: [HookSpec]] = [:]
        for e in m {
            guard let point = HookPoint(rawValue: e.key) else {
                let names = HookPoint.allCases.map(\.rawValue)
                let near =
                    TemplateScope.nearest(e.key, in: names).map { " (did you mean \"\($0)\"?)" }
                    ?? " (expected \(PlaybookNodes.orList(names)))"
                nodes.fail(e.keyNode, "hooks: unknown point \"\(e.key)\"\(near)")
                continue
            }
            let items = e.value.sequence.map(Array.init) ?? [e.value]
            var specs: [HookSpec] = []
            for (i, item) in items.enumerated() {
                if let spec = readHook(item, point: point, "hooks: \(point.rawValue)[\(i + 1)]", index: i) { specs.append(spec) }
            }
            out[point] = specs
        }
        return out
    }

    private mutating func readHook(_ node: Node, point: HookPoint, _ path: String, index: Int) -> HookSpec? {
        let defaultName = "\(point.rawValue) \(index + 1)"
        if node.scalar != nil {
            guard let run = nodes.template(node, path) else { return nil }
            return HookSpec(name: defaultName, run: run, line: node.mark?.line)
        }
        guard let m = nodes.mapping(node, path) else { return nil }
        nodes.checkKeys(m, allowed: Self.hookKeys, "\(path): ", hints: ["command": "write run:", "cmd": "write run:"])
        let entry = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let runNode = entry["run"] else {
            nodes.fail(node, "\(path): missing run: (expected the local command, e.g. run: ./hooks/announce.sh)")
            return nil
        }
        guard let run = nodes.template(runNode, "\(path): run") else { return nil }
        let name = entry["name"].flatMap { nodes.text($0, "\(path): name") } ?? defaultName
        var timeout = HookSpec.defaultTimeout
        if let t = entry["timeout"], let d = nodes.duration(t, "\(path): timeout") {
            if d <= .zero {
                nodes.fail(t, "\(path): timeout: expected a time above zero (a hook that may never end stalls the run)")
            } else {
                timeout = d
            }
        }
        var env: [String: Template] = [:]
        if let e = entry["env"], let vars = nodes.mapping(e, "\(path): env") {
            for v in vars {
                guard Self.isEnvironmentName(v.key) else {
                    nodes.fail(v.keyNode, "\(path): env: \"\(v.key)\" is not an environment variable name (letters, digits and _)")
                    continue
                }
                if v.key.hasPrefix("FLEETUP_") {
                    nodes.fail(v.keyNode, "\(path): env: \(v.key): FLEETUP_ variables are fleetup's own (the run's id, stage, …)")
                    continue
                }
                if let t = nodes.template(v.value, "\(path): env: \(v.key)") { env[v.key] = t }
            }
        }
        return HookSpec(name: name, run: run, timeout: timeout, env: env, line: node.mark?.line)
    }

    static func isEnvironmentName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

/// `notify:` (docs/playbooks.md, "Notifications"): webhooks, each `{url, format, on,
/// deadline, name}`.
extension PlaybookReader {
    static let notifyKeys = ["name", "url", "format", "on", "deadline"]

    mutating func readNotify(_ node: Node) -> [NotifySpec] {
        guard let seq = node.sequence else {
            nodes.fail(node, "notify: expected a list of webhooks (- url: …), got \(PlaybookNodes.kind(node))")
            return []
        }
        var out: [NotifySpec] = []
        for (i, item) in seq.enumerated() {
            let path = "notify[\(i + 1)]"
            guard let m = nodes.mapping(item, path) else { continue }
            nodes.checkKeys(m, allowed: Self.notifyKeys, "\(path): ", hints: ["events": "write on:", "timeout": "write deadline:"])
            let entry = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let urlNode = entry["url"] else {
                nodes.fail(item, "\(path): missing url: (expected the webhook, e.g. url: \"{{ mattermost_webhook }}\")")
                continue
            }
            guard let url = nodes.template(urlNode, "\(path): url") else { continue }
            if let literal = literalText(url), !(literal.hasPrefix("http://") || literal.hasPrefix("https://")) {
                nodes.fail(urlNode, "\(path): url: expected an http:// or https:// URL")
                continue
            }
            var spec = NotifySpec(name: "notify \(i + 1)", url: url, line: item.mark?.line)
            if let n = entry["name"], let name = nodes.text(n, "\(path): name") { spec.name = name }
            if let f = entry["format"], let text = nodes.text(f, "\(path): format") {
                if let format = NotifySpec.Format(rawValue: text) {
                    spec.format = format
                } else {
                    nodes.fail(
                        f,
                        "\(path): format: \"\(text)\" is not a format (expected \(PlaybookNodes.orList(NotifySpec.Format.allCases.map(\.rawValue))))"
                    )
                }
            }
            if let o = entry["on"], let events = nodes.texts(o, "\(path): on") {
                var set = Set<HookPoint>()
                for (name, at) in events {
                    if let p = HookPoint(rawValue: name) {
                        set.insert(p)
                    } else {
                        nodes.fail(
                            at,
                            "\(path): on: \"\(name)\" is not an event (expected \(PlaybookNodes.orList(HookPoint.allCases.map(\.rawValue))))"
                        )
                    }
                }
                if !set.isEmpty { spec.on = set }
            }
            if let d = entry["deadline"], let deadline = nodes.duration(d, "\(path): deadline") {
                if deadline <= .zero {
                    nodes.fail(d, "\(path): deadline: expected a time above zero")
                } else {
                    spec.deadline = deadline
                }
            }
            out.append(spec)
        }
        return out
    }
}
