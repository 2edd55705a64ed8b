import FleetCore
import Foundation
import Yams

/// Reads YAML nodes of a playbook into values, collecting every problem instead of
/// stopping at the first (`check` shows them all). Each problem reads
/// `file:line: where: what was expected`.
struct PlaybookNodes {
    let file: String
    var errors: [ConfigError] = []
    var warnings: [ConfigWarning] = []

    init(file: String) { self.file = file }

    mutating func fail(_ node: Node?, _ message: String) {
        errors.append(ConfigError(file: file, line: node?.mark?.line, message))
    }

    mutating func fail(line: Int?, _ message: String) {
        errors.append(ConfigError(file: file, line: line, message))
    }

    /// What a node is, for messages (`a list`, `a mapping`, `"text"`).
    static func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s): return isNull(node) ? "nothing" : "\"\(s.string)\""
        case .alias: return "an alias"
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard let s = node.scalar else { return false }
        if s.tag.description == "tag:yaml.org,2002:null" { return true }
        return YAMLValue.isImplicit(s) && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// A mapping's entries with text keys, `<<` merges applied; nil (and an error) otherwise.
    mutating func mapping(_ node: Node, _ path: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard let m = node.mapping else {
            fail(node, "\(path): expected a mapping, got \(Self.kind(node))")
            return nil
        }
        var ignored: [ConfigWarning] = []
        let pairs: [(Node, Node)]
        do { pairs = try YAMLValue.pairs(m, file: file, warnings: &ignored) } catch {
            errors.append(error)
            return nil
        }
        var out: [(String, Node, Node)] = []
        for (k, v) in pairs {
            guard let s = k.scalar, !s.string.isEmpty else {
                fail(k, "\(path): expected a plain key, got \(Self.kind(k))")
                continue
            }
            out.append((s.string, k, v))
        }
        return out
    }

    /// Keys other than `allowed` are errors, with a hint when one is a near miss.
    mutating func checkKeys(
        _ entries: [(key: String, keyNode: Node, value: Node)], allowed: [String], _ path: String,
        hints: [String: String] = [:]
    ) {
        for e in entries where !allowed.contains(e.key) {
            let hint =
                hints[e.key].map { " (\($0))" }
                ?? TemplateScope.nearest(e.key, in: allowed).map { " (did you mean \"\($0)\"?)" }
                ?? " (expected \(Self.orList(allowed)))"
            fail(e.keyNode, "\(path)unknown key \"\(e.key)\"\(hint)")
        }
    }

    static func orList(_ words: [String]) -> String {
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    /// A scalar's text as written (never typed: `5.10` stays `5.10`).
    mutating func text(_ node: Node, _ path: String, allowEmpty: Bool = false) -> String? {
        guard let s = node.scalar, !Self.isNull(node) || allowEmpty else {
            fail(node, "\(path): expected text, got \(Self.kind(node))")
            return nil
        }
        if !allowEmpty && s.string.isEmpty {
            fail(node, "\(path): expected text, got an empty value")
            return nil
        }
        return s.string
    }

    /// A scalar, or a list of scalars (`stages: staging` is `[staging]`).
    mutating func texts(_ node: Node, _ path: String) -> [(String, Node)]? {
        if node.scalar != nil { return text(node, path).map { [($0, node)] } }
        guard let seq = node.sequence else {
            fail(node, "\(path): expected a list, got \(Self.kind(node))")
            return nil
        }
        var out: [(String, Node)] = []
        for item in seq {
            if let t = text(item, path) { out.append((t, item)) }
        }
        return out
    }

    mutating func bool(_ node: Node, _ path: String) -> Bool? {
        if let s = node.scalar, YAMLValue.isImplicit(s), case .bool(let b)? = try? YAMLValue.implicit(s.string, file: file, line: nil) {
            return b
        }
        fail(node, "\(path): expected true or false, got \(Self.kind(node))")
        return nil
    }

    mutating func int(_ node: Node, _ path: String, in range: ClosedRange<Int>, expected: String? = nil) -> Int? {
        if let s = node.scalar, let n = Int(s.string.trimmingCharacters(in: .whitespaces)), range.contains(n) { return n }
        let what =
            expected
            ?? (range.upperBound == Int.max
                ? "a whole number of at least \(range.lowerBound)"
                : "a whole number from \(range.lowerBound) to \(range.upperBound)")
        fail(node, "\(path): expected \(what), got \(Self.kind(node))")
        return nil
    }

    mutating func duration(_ node: Node, _ path: String) -> Duration? {
        var problem = DurationText.Problem.notADuration
        if let s = node.scalar, !Self.isNull(node) {
            switch DurationText.read(s.string) {
            case .success(let d): return d
            case .failure(let p): problem = p
            }
        }
        fail(node, "\(path): \(DurationText.expected(problem)), got \(Self.kind(node))")
        return nil
    }

    /// A template; `{{ }}` syntax problems are errors at the node's line.
    mutating func template(_ node: Node, _ path: String) -> Template? {
        guard let t = text(node, path) else { return nil }
        do { return try Template(parsing: t) } catch {
            fail(node, "\(path): \(error.message)")
            return nil
        }
    }
}
