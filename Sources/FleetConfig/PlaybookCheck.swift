import FleetCore
import Foundation

import struct FleetCore.Host

/// Checks a loaded playbook against an inventory, host by host, before anything runs:
/// which hosts each stage holds, and whether every template renders for every host (an
/// unknown variable is found here, not on host 37 in prod).
public enum PlaybookCheck {
    /// Every hook's command and `env:` rendered with the playbook's variables and the run's
    /// facts (an unknown variable found now, not when the stage starts); one error per
    /// hook, at its line.
    public static func hooks(_ book: Playbook, target: Version, overrides: [String: VarValue]) -> [ConfigError] {
        var out: [ConfigError] = []
        for point in HookPoint.allCases {
            for hook in book.hooks[point] ?? [] {
                let context = HookContext(
                    point: point, runID: "check", playbook: book.name, target: target.text, stage: point == .beforeRun ? nil : "stage",
                    batch: point == .afterBatch ? 1 : nil)
                do { _ = try hook.rendered(in: HookSpec.scope(playbook: book, overrides: overrides, context: context)) } catch {
                    out.append(ConfigError(file: book.file, line: hook.line, "hooks: \(point.rawValue) \"\(hook.name)\": \(error.message)"))
                }
            }
        }
        for n in book.notify {
            let context = HookContext(point: .afterRun, runID: "check", playbook: book.name, target: target.text)
            let scope = HookSpec.scope(playbook: book, overrides: overrides, context: context)
            do {
                let url = try scope.render(n.url, as: .text).text
                if !url.isEmpty && !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                    out.append(
                        ConfigError(file: book.file, line: n.line, "notify: \"\(n.name)\": url: expected an http:// or https:// URL"))
                }
            } catch {
                out.append(ConfigError(file: book.file, line: n.line, "notify: \"\(n.name)\": url: \(error.message)"))
            }
        }
        return out
    }

    /// The playbook's hosts (narrowed by `limit`) split into its stages, in stage order,
    /// each in the hosts' order. Every host must be in exactly one stage.
    public static func stages(_ playbook: Playbook, inventory: Inventory, limit: String?) throws -> [(name: String, hosts: [Host])] {
        let file = playbook.file, hostsLine = playbook.lines["hosts"]
        let selected: [Host]
        do {
            selected = try HostPattern.select(playbook.hosts, in: inventory, limit: limit, label: "hosts")
        } catch let e as ConfigError where e.file == "hosts" {
            throw ConfigError(file: file, line: hostsLine, "hosts: \(e.message)")
        }
        guard !playbook.stages.isEmpty else { return [("all", selected)] }
        var errors: [ConfigError] = []
        var members: [Set<String>] = []
        for stage in playbook.stages {
            do {
                members.append(Set(try HostPattern.select(stage, in: inventory, limit: nil, label: "stages").map(\.name)))
            } catch let e as ConfigError where e.file == "stages" {
                errors.append(ConfigError(file: file, line: playbook.lines["stages"], "stages: \(e.message)"))
                members.append([])
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        var none: [String] = []
        for host in selected {
            let ins = playbook.stages.indices.filter { members[$0].contains(host.name) }
            if ins.isEmpty { none.append(host.name) }
            if ins.count > 1 {
                errors.append(
                    ConfigError(
                        file: file, line: playbook.lines["stages"],
                        "stages: host \(host.name) is in stages \(ins.map { playbook.stages[$0] }.joined(separator: " and ")) (a host belongs to one stage)"
                    ))
            }
        }
        if !none.isEmpty {
            errors.append(
                ConfigError(
                    file: file, line: playbook.lines["stages"],
                    "stages: \(hostList(none)) \(none.count == 1 ? "is" : "are") selected by hosts: \"\(playbook.hosts)\" but in no stage (stages: \(playbook.stages.joined(separator: ", ")))"
                ))
        }
        if !errors.isEmpty { throw ConfigErrors(Array(errors.prefix(20))) }
        return playbook.stages.indices.map { i in (playbook.stages[i], selected.filter { members[i].contains($0.name) }) }
    }

    /// Renders every template of the playbook for every host (with the facts a hop would
    /// give), and tests every `when:`; each problem once, naming the hosts it concerns.
    public static func templates(
        _ playbook: Playbook, hosts: [Host], target: Version,
        overrides: [String: VarValue] = [:]
    ) -> [ConfigError] {
        let targetText = playbook.release(target)?.version.text ?? target.text
        let first = playbook.releases.first?.version.text ?? targetText
        var problems: [String: (line: Int?, message: String, hosts: [String])] = [:]
        var order: [String] = []
        for host in hosts {
            let base = TemplateScope.host(
                host, defaults: playbook.vars, overrides: overrides, secret: playbook.secret,
                facts: ["target": targetText])
            let hop = base.with(["from": first, "to": targetText, "release": targetText])
            var found: [(Int?, String)] = []
            func render(_ t: Template, _ context: TemplateContext, _ scope: TemplateScope, _ line: Int?, _ label: String) {
                do { _ = try scope.render(t, as: context) } catch { found.append((line, "\(label): \(error.message)")) }
            }
            // A probe's URL or address as this host renders it, read by the planner's own parser.
            func address(
                _ t: Template, _ scope: TemplateScope, _ line: Int?, _ label: String,
                _ parse: (String) throws(ProbeAddress.Problem) -> ProbeAddress
            ) {
                let text: String
                do { text = try scope.render(t, as: .text).text } catch { return found.append((line, "\(label): \(error.message)")) }
                // Literal values were checked when the playbook was read.
                guard !t.isLiteral else { return }
                // The message quotes the value: a secret in it shows as the mask.
                do { _ = try parse(text) } catch { found.append((line, "\(label): \(Redactor(scope: scope).redact(error.message))")) }
            }
            render(playbook.version.detect, .shell, base, playbook.version.line, "version.detect")
            let steps = playbook.steps.compactMap {
                if case .step(let s) = $0 { return s }; return nil
            }
            for s in steps { check(s, "step \"\(s.title)\"", hop, playbook, &found) }
            for r in playbook.releases {
                for s in r.steps {
                    check(s, "release \(r.version.text): step \"\(s.title)\"", hop.with(["release": r.version.text]), playbook, &found)
                }
            }
            for s in playbook.rollback { check(s, "rollback: step \"\(s.title)\"", hop, playbook, &found) }
            for (i, p) in playbook.health.enumerated() {
                let label = "health[\(i + 1)]"
                switch p.kind {
                case .http(let t): address(t, base, p.line, "\(label): http", ProbeAddress.url)
                case .tcp(let t): address(t, base, p.line, "\(label): tcp", ProbeAddress.tcp)
                case .command(let t): render(t, .shell, base, p.line, label)
                }
                if let b = p.bodyContains { render(b, .text, base, p.line, "\(label): expect.body_contains") }
                if let l = p.logs { render(l, .shell, base, p.line, "\(label): logs") }
            }
            for (line, message) in found {
                let key = "\(line ?? 0)\u{0}\(message)"
                if problems[key] == nil { order.append(key); problems[key] = (line, message, []) }
                problems[key]!.hosts.append(host.name)
            }
        }
        let total = hosts.count
        return order.map { key in
            let p = problems[key]!
            let whose =
                p.hosts.count == total && total > 1
                ? "on all \(total) hosts" : p.hosts.count == 1 ? "host \(p.hosts[0])" : "hosts \(hostList(p.hosts))"
            return ConfigError(file: playbook.file, line: p.line, "\(p.message) (\(whose))")
        }.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
    }

    /// Names in `secret:` that no layer sets: not a playbook var, not a variable of any host
    /// of the inventory (the whole inventory: `--limit` does not change what a name means),
    /// not a `--var`. Such a name protects nothing, and a typo (`licence_key`) would leave the
    /// real secret printed in plans: an error naming the near miss.
    public static func secretNames(
        _ playbook: Playbook, inventory: Inventory,
        overrides: [String: VarValue] = [:]
    ) -> [ConfigError] {
        var known = Set(playbook.vars.keys).union(overrides.keys)
        for host in inventory.hosts { known.formUnion(host.vars.keys) }
        return playbook.secret.subtracting(known).sorted().map { name in
            let near = TemplateScope.nearest(name, in: known.sorted()).map { " (did you mean \"\($0)\"?)" } ?? ""
            return ConfigError(
                file: playbook.file, line: playbook.lines["secret.\(name)"] ?? playbook.lines["secret"],
                "secret: \"\(name)\" is not a variable of vars:, the inventory or --var\(near)")
        }
    }

    /// Local files that uploads need and that are not there (yet): a warning at `check`,
    /// since release archives are often fetched just before a run.
    public static func missingUploads(
        _ playbook: Playbook, hosts: [Host], target: Version,
        overrides: [String: VarValue] = [:]
    ) -> [ConfigWarning] {
        var seen = Set<String>()
        var out: [ConfigWarning] = []
        let targetText = playbook.release(target)?.version.text ?? target.text
        let uploads =
            playbook.steps.compactMap {
                if case .step(let s) = $0 { return s }; return nil
            }
            + playbook.releases.flatMap(\.steps)
        // Relative sources are found beside the playbook (as the planner resolves them).
        let dir = playbook.file.lastIndex(of: "/").map { String(playbook.file[..<$0]) } ?? "."
        for host in hosts {
            let base = TemplateScope.host(
                host, defaults: playbook.vars, overrides: overrides, secret: playbook.secret,
                facts: ["target": targetText])
            for (i, r) in playbook.releases.enumerated() where i > 0 && r.version <= target {
                let scope = base.with(["from": playbook.releases[i - 1].version.text, "to": r.version.text, "release": r.version.text])
                for s in uploads {
                    guard case .upload(let src, _, _) = s.action, let path = try? scope.render(src, as: .text).text else { continue }
                    let full = path.hasPrefix("/") || path.hasPrefix("~") ? path : (dir == "." ? path : dir + "/" + path)
                    guard seen.insert(full).inserted else { continue }
                    var info = stat()
                    if stat(full, &info) != 0 {
                        out.append(
                            ConfigWarning(
                                file: playbook.file, line: s.line,
                                "step \"\(s.title)\": upload source \(full) does not exist (needed to go to \(r.version.text))"))
                    } else if (info.st_mode & S_IFMT) != S_IFREG {
                        // /dev/zero would upload forever; the upload refuses it (SFTPWriteOperation).
                        out.append(
                            ConfigWarning(
                                file: playbook.file, line: s.line,
                                "step \"\(s.title)\": upload source \(full) is not a regular file (a device, pipe or folder): the upload would fail"
                            ))
                    }
                }
            }
        }
        return out
    }

    private static func check(_ s: Step, _ label: String, _ scope: TemplateScope, _ playbook: Playbook, _ found: inout [(Int?, String)]) {
        do {
            switch s.action {
            case .run(let t):
                _ = try scope.render(t, as: .shell)
                if let dir = s.chdir ?? playbook.chdir { _ = try scope.render(dir, as: .shell) }
            case .upload(let src, let dest, _):
                _ = try scope.render(src, as: .text)
                _ = try scope.render(dest, as: .text)
            }
        } catch {
            found.append((s.line, "\(label): \(error.message)"))
        }
        for c in s.when where !playbook.flags.contains(c.name) {
            guard let raw = scope.value(of: c.name) else {
                let near = TemplateScope.nearest(c.name, in: scope.names + playbook.flags).map { " (did you mean \"\($0)\"?)" } ?? ""
                found.append((s.line, "\(label): when: unknown variable or release flag \"\(c.name)\"\(near)"))
                continue
            }
            guard case .isTrue = c.test else { continue }
            let text: String
            do { text = try scope.text(of: c.name)?.display ?? "" } catch {
                found.append((s.line, "\(label): when: \(error.message)"))
                continue
            }
            if case .bool = raw { continue }
            if VarValue.string(text).boolValue == nil {
                found.append((s.line, "\(label): when: \"\(c.name)\" is \"\(text)\", not a boolean (compare it: \(c.name) == \"\(text)\")"))
            }
        }
    }

    /// Up to five names, then how many more.
    static func hostList(_ names: [String]) -> String {
        names.count <= 5 ? names.joined(separator: ", ") : names.prefix(5).joined(separator: ", ") + " and \(names.count - 5) more"
    }
}
