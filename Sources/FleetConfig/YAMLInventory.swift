import FleetCore
import FleetVault
import Foundation
import Yams

/// Ansible's `yaml` inventory format: top-level groups, each a mapping of `hosts`
/// (pattern -> vars or nothing), `children` (group -> the same structure or nothing) and
/// `vars`. A string stands for a one-entry mapping (`hosts: web1`), as in Ansible.
///
/// Stricter than Ansible where it only warns and drops data: an unknown key in a group,
/// or a group that is not a mapping, is refused (docs/inventory.md).
struct YAMLInventory {
    let file: String
    /// The passwords of `!vault` values (nil: none were given).
    let vault: VaultKeyring?
    var warnings: [ConfigWarning] = []
    private var warnedNames = Set<String>()

    init(file: String, vault: VaultKeyring? = nil) {
        self.file = file
        self.vault = vault
    }

    /// The document's root node (nil for an empty document), or a `file:line` YAML error.
    static func compose(_ text: String, file: String) throws(ConfigError) -> Node? {
        try YAMLItems.check(text, file: file)
        if YAMLAliases.mayHaveAliases(text) { try YAMLAliases.check(text, file: file, resolver: YAMLValue.resolver) }
        do {
            // An explicit encoding: Yams' default reads the whole environment on every parse.
            return try Yams.compose(yaml: text, YAMLValue.resolver, .default, .utf8)
        } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
            // Ansible warns and keeps the last value; a key written twice is a mistake.
            throw ConfigError(
                file: file, line: context.mark.line,
                "duplicate key \(keys.map { "\"\($0)\"" }.joined(separator: ", ")) in one mapping (write each key once)")
        } catch let e as YamlError {
            throw ConfigError(file: file, line: line(of: e), "invalid YAML: \(problem(of: e))")
        } catch {
            throw ConfigError(file: file, "invalid YAML: \(error)")
        }
    }

    mutating func read(_ root: Node?, into builder: inout InventoryBuilder) throws(ConfigError) {
        guard let root else { return }  // an empty file is an empty inventory, as in Ansible
        if let s = root.scalar, s.style == .plain, (try? YAMLValue.implicit(s.string, file: file, line: nil)) == .null { return }
        guard let top = root.mapping else {
            throw ConfigError(
                file: file, line: root.mark?.line, "expected a mapping of groups (all:, children:, hosts:), got \(kind(root))")
        }
        let pairs = try YAMLValue.pairs(top, file: file, warnings: &warnings)
        if pairs.contains(where: { $0.0.scalar?.string == "plugin" }) {
            throw ConfigError(
                file: file, line: top.mark?.line,
                "inventory plugin configuration (plugin:) is not supported; give a YAML or INI inventory")
        }
        for (key, value) in pairs {
            _ = try group(try name(key, what: "group"), value, into: &builder)
        }
    }

    private mutating func group(_ name: String, _ node: Node, into builder: inout InventoryBuilder) throws(ConfigError) -> String {
        GroupNames.check(name, file: file, line: node.mark?.line, warnings: &warnings, warned: &warnedNames)
        builder.addGroup(name)
        if let problem = builder.tooManyGroups { throw ConfigError(file: file, line: node.mark?.line, problem) }
        if isNull(node) { return name }
        guard let map = node.mapping else {
            throw ConfigError(
                file: file, line: node.mark?.line,
                "group \"\(name)\": expected a mapping with hosts, children or vars, got \(kind(node))")
        }
        for (key, rawValue) in try YAMLValue.pairs(map, file: file, warnings: &warnings) {
            let section = try self.name(key, what: "key")
            guard ["hosts", "children", "vars"].contains(section) else {
                throw ConfigError(
                    file: file, line: key.mark?.line,
                    "group \"\(name)\": unknown key \"\(section)\" (expected hosts, children or vars)")
            }
            if isNull(rawValue) { continue }
            let entries: [(Node, Node)]
            if let s = rawValue.scalar, YAMLValue.stringValue(s) != nil {
                entries = [(rawValue, Node.scalar(.init("", .init(.null), .plain, s.mark)))]
            } else if let m = rawValue.mapping {
                entries = try YAMLValue.pairs(m, file: file, warnings: &warnings)
            } else {
                let hint =
                    section == "hosts" && rawValue.sequence != nil ? " (a list is not Ansible's format: write host names as keys)" : ""
                throw ConfigError(
                    file: file, line: rawValue.mark?.line,
                    "group \"\(name)\": \(section) must be a mapping, got \(kind(rawValue))\(hint)")
            }
            switch section {
            case "vars":
                for (k, v) in entries {
                    let key = try self.name(k, what: "variable")
                    let value = try YAMLValue.value(v, file: file, warnings: &warnings, vault: vault)
                    if !builder.setGroupVar(name, key, value) {
                        throw ConfigError(file: file, line: v.mark?.line, "ansible_group_priority must be a whole number")
                    }
                }
            case "children":
                for (k, v) in entries {
                    let child = try group(try self.name(k, what: "group"), v, into: &builder)
                    do { try builder.addChild(child, to: name, at: .init(file: file, line: k.mark?.line)) } catch {
                        throw ConfigError(file: file, line: k.mark?.line, error.message)
                    }
                }
            default:
                for (k, v) in entries { try hosts(k, v, group: name, into: &builder) }
            }
        }
        return name
    }

    private mutating func hosts(_ key: Node, _ value: Node, group: String, into builder: inout InventoryBuilder) throws(ConfigError) {
        let entry = try name(key, what: "host")
        let (names, port) = try INIInventory.hosts(entry, file: file, line: key.mark?.line)
        var vars: [String: VarValue] = [:]
        if let m = value.mapping {
            for (k, v) in try YAMLValue.pairs(m, file: file, warnings: &warnings) {
                vars[try self.name(k, what: "variable")] = try YAMLValue.value(v, file: file, warnings: &warnings, vault: vault)
            }
        } else if !isNull(value) && !isFalsy(value) {
            throw ConfigError(
                file: file, line: value.mark?.line,
                "host \"\(entry)\": expected a mapping of variables or nothing, got \(kind(value))")
        }
        for host in names where !builder.addHost(host, to: group, port: port, vars: vars) {
            warnings.append(
                ConfigWarning(
                    file: file, line: key.mark?.line,
                    "host \"\(host)\" already has a port; Ansible ignores the port given here, and so does fleetup"))
        }
        if let problem = builder.tooManyHosts { throw ConfigError(file: file, line: key.mark?.line, problem) }
    }

    /// A key that must be text: group, host and variable names. `1:` or `true:` is refused,
    /// as Ansible does for hosts ("enclose integers/floats in quotation marks").
    private func name(_ node: Node, what: String) throws(ConfigError) -> String {
        guard let s = node.scalar else {
            throw ConfigError(file: file, line: node.mark?.line, "expected a \(what) name, got \(kind(node))")
        }
        guard let text = YAMLValue.stringValue(s), !text.isEmpty else {
            throw ConfigError(
                file: file, line: node.mark?.line,
                "\(what) name \(s.string.isEmpty ? "is empty" : "\(s.string) is not text (quote it: \"\(s.string)\")")")
        }
        return text
    }

    private func isNull(_ node: Node) -> Bool {
        guard let s = node.scalar else { return false }
        if s.tag.description == "tag:yaml.org,2002:null" { return true }
        return YAMLValue.isImplicit(s) && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// Python's `value or {}`: false, 0, "" and empty lists count as no variables.
    private func isFalsy(_ node: Node) -> Bool {
        if let seq = node.sequence { return seq.isEmpty }
        guard let s = node.scalar else { return false }
        if !YAMLValue.isImplicit(s) { return s.string.isEmpty }
        switch try? YAMLValue.implicit(s.string, file: file, line: nil) {
        case .bool(false), .int(0), .double(0): return true
        default: return false
        }
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s): return "\"\(s.string)\""
        case .alias: return "an alias"
        }
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            if problem.hasPrefix("Maximum nesting level reached") {
                return "lists and mappings nested deeper than the YAML parser's limit (\(ConfigLimits.yamlNesting) levels)"
            }
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        default:
            return "\(error)"
        }
    }
}

extension YAMLValue {
    /// The text of a scalar that YAML reads as a string (quoted, or plain and untyped).
    static func stringValue(_ s: Node.Scalar) -> String? {
        let tag = s.tag.description
        if tag == stringTag || tag == "!unsafe" || tag == "!" { return s.string }
        guard isImplicit(s) else { return nil }
        var ignored: [ConfigWarning] = []
        guard case .string(let t)? = try? scalar(s, file: "", warnings: &ignored) else { return nil }
        return t
    }
}
