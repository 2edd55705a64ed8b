import FleetCore
import FleetLocal
import Foundation
import Yams

/// Reads an upgrade playbook (docs/playbooks.md) and validates what can be validated
/// without an inventory. Every problem is reported at once, as `file:line: where: problem`;
/// a playbook with any problem is not returned at all (`PlaybookCheck` then checks it
/// against an inventory, host by host).
public enum PlaybookLoader {
    static let topKeys = [
        "name", "hosts", "stages", "vars", "secret", "version", "releases", "flags", "path",
        "rolling", "steps", "health", "rollback", "chdir", "hooks", "notify",
    ]

    /// Reads `path`; throws `ConfigErrors` listing every problem, or a `ConfigError` when
    /// the file cannot be read.
    public static func load(_ path: String) throws -> Playbook {
        var ignored: [ConfigWarning] = []
        return try load(path, warnings: &ignored)
    }

    /// Reads `path`, appending what is suspicious but allowed to `warnings`.
    public static func load(_ path: String, warnings: inout [ConfigWarning]) throws -> Playbook {
        // Bounded, and never from a device: InputFile (ConfigLimits.fileBytes).
        let data: [UInt8]
        do { data = try InputFile.read(path, limit: ConfigLimits.fileBytes) } catch {
            switch error.kind {
            case .missing: throw ConfigError(file: path, "no such playbook file")
            case .folder: throw ConfigError(file: path, "is a folder (expected a playbook file)")
            case .unreadable: throw ConfigError(file: path, "cannot be read")
            default: throw ConfigError(file: path, error.message)
            }
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path, warnings: &warnings)
    }

    /// Reads a playbook's text; `file` names it in messages and resolves relative uploads.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> Playbook {
        var ignored: [ConfigWarning] = []
        return try parse(text, file: file, warnings: &ignored)
    }

    public static func parse(_ text: String, file: String, warnings: inout [ConfigWarning]) throws(ConfigErrors) -> Playbook {
        var r = PlaybookReader(file: file)
        let playbook = r.read(text)
        warnings += r.nodes.warnings
        if let playbook, r.nodes.errors.isEmpty { return playbook }
        // In file order (sections are read in a fixed order, not as written).
        let sorted = r.nodes.errors.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(
            \.element)
        throw ConfigErrors(sorted.isEmpty ? [ConfigError(file: file, "not a playbook")] : sorted)
    }
}

/// One pass over a playbook's YAML.
struct PlaybookReader {
    var nodes: PlaybookNodes
    var file: String { nodes.file }
    var lines: [String: Int] = [:]
    var flags: [String] = []
    var flagsUsed = Set<String>()

    init(file: String) { nodes = PlaybookNodes(file: file) }

    mutating func read(_ text: String) -> Playbook? {
        let root: Node?
        do { root = try YAMLInventory.compose(text, file: file) } catch {
            nodes.errors.append(error)
            return nil
        }
        guard let root, !PlaybookNodes.isNull(root) else {
            nodes.fail(line: nil, "the playbook is empty (expected a mapping with hosts, version, releases and steps)")
            return nil
        }
        guard let top = nodes.mapping(root, "playbook") else { return nil }
        nodes.checkKeys(
            top, allowed: PlaybookLoader.topKeys, "",
            hints: [
                "serial": "batch sizes go in rolling: batch:", "max_fail_percentage": "it goes in rolling:",
                "tasks": "fleetup's steps are in steps:", "vars_files": "put the variables in the inventory or in vars:",
                "any_errors_fatal": "fleetup says it as rolling: max_fail_percentage: 0 (any failed host halts the run)",
            ])
        var node: [String: Node] = [:]
        for e in top {
            node[e.key] = e.value
            lines[e.key] = e.keyNode.mark?.line
        }
        func required(_ key: String, _ example: String) -> Node? {
            if let n = node[key] { return n }
            nodes.fail(line: nil, "missing \(key): (expected \(example))")
            return nil
        }

        let defaultName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = node["name"].flatMap { nodes.text($0, "name") } ?? defaultName
        let hosts = required("hosts", "the inventory pattern of the hosts to upgrade, e.g. hosts: mattermost").flatMap {
            nodes.text($0, "hosts")
        }
        let stages = node["stages"].map { readStages($0) } ?? []
        let vars = node["vars"].map { readVars($0) } ?? [:]
        let secret = node["secret"].map { readNames($0, "secret") } ?? []
        flags = node["flags"].map { readNames($0, "flags") } ?? []
        let releases =
            required("releases", "the releases, oldest first, e.g. releases: [\"5.0.0\", \"5.1.0\"]").map { readReleases($0) } ?? []
        let version = required("version", "version: with detect: (the command that prints the version)").flatMap {
            readVersion($0, releases: releases)
        }
        var path = PathMode.sequential
        if let p = node["path"], let t = nodes.text(p, "path") {
            if let m = PathMode(rawValue: t) {
                path = m
            } else {
                nodes.fail(p, "path: \"\(t)\" is not a path mode (expected sequential or cumulative)")
            }
        }
        let rolling = node["rolling"].map { readRolling($0) } ?? RolloutPolicy()
        let stepsNode = required("steps", "the steps of one upgrade, e.g. steps: [{name: stop, run: systemctl stop app}]")
        let steps = stepsNode.map { readSteps($0) } ?? []
        let health = node["health"].map { readHealth($0) } ?? []
        let chdir = node["chdir"].flatMap { nodes.template($0, "chdir") }
        let hooks = node["hooks"].map { readHooks($0) } ?? [:]
        let notify = node["notify"].map { readNotify($0) } ?? []
        let rollback = node["rollback"].map { readStepList($0, "rollback: ", release: nil, allowShorthand: false).compactMap { $0 } } ?? []
        for s in rollback where s.noReturn {
            nodes.fail(
                line: s.line,
                "rollback: step \"\(s.title)\": no_return has no meaning in rollback (it marks the upgrade's point of no return)")
        }

        // Cross-checks that need several sections.
        let marker = steps.contains {
            if case .releaseSteps = $0 { return true }; return false
        }
        if let stepsNode, !marker, let r = releases.first(where: { !$0.steps.isEmpty }) {
            nodes.fail(
                stepsNode,
                "steps: release \(r.version.text) has steps of its own, but steps: has no release_steps entry saying where they run")
        }
        if let stepsNode, let seq = stepsNode.sequence, seq.isEmpty {
            nodes.fail(stepsNode, "steps: expected at least one step")
        }
        for f in flags where !flagsUsed.contains(f) {
            nodes.fail(
                line: lines["flags"],
                "flags: \"\(f)\" is tested by no step's when: (a release flag is for steps that run only when a release asks)")
        }
        for (n, _) in vars where secret.contains(n) == false && n.lowercased().contains("password") {
            nodes.warnings.append(
                ConfigWarning(
                    file: file, line: lines["vars"],
                    "vars: \"\(n)\" looks like a password but is not in secret: (it would be shown in plans and reports)"))
        }
        guard let hosts, let version else { return nil }
        return Playbook(
            name: name, file: file, hosts: hosts, stages: stages, vars: vars, secret: Set(secret), version: version,
            releases: releases, flags: flags, path: path, rolling: rolling, steps: steps, health: health,
            rollback: rollback, chdir: chdir, hooks: hooks, notify: notify, lines: lines)
    }

    mutating func readStages(_ node: Node) -> [String] {
        var out: [String] = []
        for (t, n) in nodes.texts(node, "stages") ?? [] {
            if out.contains(t) { nodes.fail(n, "stages: \"\(t)\" is listed twice") } else { out.append(t) }
        }
        if out.isEmpty && node.sequence != nil {
            nodes.fail(node, "stages: expected at least one stage (or leave stages: out for one stage of every host)")
        }
        return out
    }

    mutating func readNames(_ node: Node, _ path: String) -> [String] {
        var out: [String] = []
        for (t, n) in nodes.texts(node, path) ?? [] {
            if !Template.isName(t) {
                nodes.fail(n, "\(path): \"\(t)\" is not a variable name (letters, digits and _)")
            } else if out.contains(t) {
                nodes.fail(n, "\(path): \"\(t)\" is listed twice")
            } else {
                out.append(t)
                lines["\(path).\(t)"] = n.mark?.line  // `check` names a secret's own line
            }
        }
        return out
    }

    mutating func readVars(_ node: Node) -> [String: VarValue] {
        var out: [String: VarValue] = [:]
        for e in nodes.mapping(node, "vars") ?? [] {
            guard Template.isName(e.key) else {
                nodes.fail(e.keyNode, "vars: \"\(e.key)\" is not a variable name (letters, digits and _)")
                continue
            }
            if TemplateScope.factNames.contains(e.key) {
                nodes.fail(
                    e.keyNode,
                    "vars: \"\(e.key)\" is a run fact (\(TemplateScope.factNames.joined(separator: ", "))): fleetup sets it, a playbook cannot"
                )
                continue
            }
            var w: [ConfigWarning] = []
            do {
                let v = try YAMLValue.value(e.value, file: file, warnings: &w)
                if case .string(let s) = v, s.contains("{{") {
                    do { _ = try Template(parsing: s) } catch { nodes.fail(e.value, "vars: \(e.key): \(error.message)"); continue }
                }
                out[e.key] = v
            } catch {
                nodes.errors.append(error)
            }
            nodes.warnings += w
        }
        return out
    }

    mutating func readVersion(_ node: Node, releases: [Release]) -> VersionSpec? {
        guard let m = nodes.mapping(node, "version") else { return nil }
        nodes.checkKeys(m, allowed: ["detect", "pattern", "target"], "version: ")
        let entry = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let dn = entry["detect"] else {
            nodes.fail(node, "version: missing detect: (expected the command that prints the installed version)")
            return nil
        }
        guard let detect = nodes.template(dn, "version.detect") else { return nil }
        let facts = detect.variables.filter { ["from", "to", "release"].contains($0) }
        if let f = facts.first {
            nodes.fail(dn, "version.detect: cannot use \"\(f)\" (it is known only once the version has been read)")
        }
        var pattern: String?
        if let pn = entry["pattern"], let p = nodes.text(pn, "version.pattern") {
            if let re = try? NSRegularExpression(pattern: p) {
                if re.numberOfCaptureGroups > 1 { nodes.fail(pn, "version.pattern: expected at most one group (the version)") }
                pattern = p
            } else {
                nodes.fail(pn, "version.pattern: \"\(p)\" is not a regular expression")
            }
        }
        var target: Version?
        if let tn = entry["target"], let t = nodes.text(tn, "version.target") {
            lines["version.target"] = tn.mark?.line
            if let v = Version(t) {
                target = v
                if !releases.isEmpty, !releases.contains(where: { $0.version == v }) {
                    nodes.fail(
                        tn, "version.target: \(t) is not one of the releases (\(releases.map(\.version.text).joined(separator: ", ")))")
                }
            } else {
                nodes.fail(tn, "version.target: \"\(t)\" is not a version (expected x.y.z, optionally with a leading v or a -pre-release)")
            }
        }
        return VersionSpec(detect: detect, pattern: pattern, target: target, line: dn.mark?.line)
    }

    mutating func readReleases(_ node: Node) -> [Release] {
        var out: [Release] = []
        func add(_ text: String, _ at: Node, _ body: Node?) {
            guard let v = Version(text) else {
                nodes.fail(at, "releases: \"\(text)\" is not a version (expected x.y.z, optionally with a leading v or a -pre-release)")
                return
            }
            var release = Release(v, line: at.mark?.line)
            if let body, !PlaybookNodes.isNull(body) { readRelease(body, into: &release) }
            if let last = out.last {
                if last.version == v {
                    nodes.fail(at, "releases: \(text) and \(last.version.text) are the same release")
                    return
                }
                if v < last.version {
                    nodes.fail(at, "releases: \(text) is listed after \(last.version.text) (list releases oldest first)")
                    return
                }
            }
            out.append(release)
        }
        if let seq = node.sequence {
            for item in seq {
                if let t = nodes.text(item, "releases") { add(t, item, nil) }
            }
        } else if node.mapping != nil {
            for e in nodes.mapping(node, "releases") ?? [] { add(e.key, e.keyNode, e.value) }
        } else {
            nodes.fail(
                node,
                "releases: expected a list of versions or a mapping of version to its steps and flags, got \(PlaybookNodes.kind(node))")
        }
        if out.isEmpty && (node.sequence != nil || node.mapping != nil) {
            nodes.fail(node, "releases: expected at least one release")
        }
        return out
    }

    mutating func readRelease(_ node: Node, into release: inout Release) {
        let path = "release \(release.version.text)"
        guard let m = nodes.mapping(node, path) else { return }
        for e in m {
            switch e.key {
            case "steps":
                release.steps = readStepList(e.value, "\(path): ", release: release.version.text, allowShorthand: true).compactMap { $0 }
            case "waypoint":
                release.waypoint = nodes.bool(e.value, "\(path): waypoint") ?? false
            default:
                guard flags.contains(e.key) else {
                    let hint =
                        TemplateScope.nearest(e.key, in: flags + ["steps", "waypoint"]).map { "did you mean \"\($0)\"?" }
                        ?? "expected steps, waypoint, or a flag declared in flags:"
                    nodes.fail(e.keyNode, "\(path): unknown key \"\(e.key)\" (\(hint))")
                    continue
                }
                if let b = nodes.bool(e.value, "\(path): \(e.key)") { release.flags[e.key] = b }
            }
        }
    }
}
