import FleetCore
import Foundation

/// Ansible's `ini` inventory format, read as its plugin reads it: lines before any section
/// are hosts of `ungrouped`; `[g]` lists hosts (`name[:port] key=value ...`), `[g:vars]`
/// sets `key = value`, `[g:children]` names child groups; `#` and `;` start comments.
/// Values are typed like Python literals (`5`, `True`, `[1, 2]`, `'text'`), else kept as text.
struct INIInventory {
    let file: String
    var warnings: [ConfigWarning] = []
    private var warnedNames = Set<String>()

    init(file: String) { self.file = file }

    private struct Pending {
        var line: Int
        var isVars: Bool
        var parents: [String] = []
    }

    /// Items (lines and variables) of the file, once read.
    private(set) var items = 0

    mutating func read(_ text: String, into builder: inout InventoryBuilder) throws(ConfigError) {
        var group = "ungrouped"
        var state = "hosts"
        var pending: [String: Pending] = [:]
        var pendingOrder: [String] = []
        var seenSections: [String: Int] = [:]
        var lineNumber = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = Self.strip(raw)
            guard let first = line.first, first != "#", first != ";" else { continue }
            items += 1 + line.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "=") ? 1 : 0) }
            if items > ConfigLimits.fileItems {
                throw error(
                    lineNumber,
                    "more than \(ConfigLimits.fileItems) items (lines and variables) in one file (the limit: each costs 100-200 bytes loaded)"
                )
            }
            if first == "[", let (name, kind) = Self.section(line) {
                let title = kind.map { "\(name):\($0)" } ?? name
                state = kind ?? "hosts"
                guard ["hosts", "children", "vars"].contains(state) else {
                    throw error(
                        lineNumber,
                        "section [\(title)] has unknown type \"\(state)\" (expected [\(name)], [\(name):vars] or [\(name):children])")
                }
                if let earlier = seenSections[title] {
                    warn(lineNumber, "section [\(title)] appears again (first at line \(earlier)); its entries are merged, as Ansible does")
                } else {
                    seenSections[title] = lineNumber
                }
                group = name
                GroupNames.check(name, file: file, line: lineNumber, warnings: &warnings, warned: &warnedNames)
                if let problem = builder.tooManyGroups { throw error(lineNumber, problem) }
                if !builder.hasGroup(name) {
                    // [g:vars] alone does not declare g: Ansible wants [g] or [g:children] too.
                    if state == "vars" && pending[name] == nil {
                        pending[name] = Pending(line: lineNumber, isVars: true)
                        pendingOrder.append(name)
                    }
                    builder.addGroup(name)
                }
                if state != "vars", let p = pending[name] {
                    if !p.isVars { try resolveChildren(name, &pending, &builder) } else { pending[name] = nil }
                }
                continue
            }
            if first == "[" && line.hasSuffix("]") {
                throw error(
                    lineNumber, "invalid section header \"\(line)\" (expected [group], [group:vars] or [group:children], with no spaces)")
            }
            switch state {
            case "hosts":
                try hostLine(line, group: group, at: lineNumber, into: &builder)
            case "vars":
                guard let eq = line.firstIndex(of: "=") else {
                    throw error(lineNumber, "expected key=value in [\(group):vars], got \"\(line)\"")
                }
                let key = Self.strip(line[..<eq])
                let value = Self.strip(line[line.index(after: eq)...])
                guard !key.isEmpty else { throw error(lineNumber, "expected a variable name before \"=\" in [\(group):vars]") }
                if !builder.setGroupVar(group, key, try self.value(value, key: key, at: lineNumber)) {
                    throw error(lineNumber, "ansible_group_priority must be a whole number, got \"\(value)\"")
                }
            default:
                guard let child = Self.groupName(line) else {
                    throw error(lineNumber, "expected one group name per line in [\(group):children], got \"\(line)\"")
                }
                if builder.hasGroup(child) {
                    do { try builder.addChild(child, to: group, at: origin(lineNumber)) } catch {
                        throw self.error(lineNumber, error.message)
                    }
                } else if pending[child] == nil {
                    // Named before declared: still a group to be (or an error), counted now.
                    if pending.count + builder.groupNames.count >= ConfigLimits.groups {
                        throw error(lineNumber, InventoryBuilder.groupsProblem)
                    }
                    pending[child] = Pending(line: lineNumber, isVars: false, parents: [group])
                    pendingOrder.append(child)
                } else {
                    pending[child]!.parents.append(group)
                }
            }
        }
        for name in pendingOrder {
            guard let p = pending[name] else { continue }
            if p.isVars {
                throw error(
                    p.line,
                    "section [\(name):vars] is for group \"\(name)\", which this file never declares (expected a [\(name)] or [\(name):children] section)"
                )
            }
            throw error(
                p.line,
                "section [\(p.parents.last!):children] names group \"\(name)\", which this file never declares (expected a [\(name)] or [\(name):children] section)"
            )
        }
    }

    private func resolveChildren(_ name: String, _ pending: inout [String: Pending], _ builder: inout InventoryBuilder) throws(ConfigError)
    {
        guard let p = pending[name] else { return }
        pending[name] = nil
        for parent in p.parents {
            do { try builder.addChild(name, to: parent, at: origin(p.line)) } catch { throw self.error(p.line, error.message) }
            if let pp = pending[parent], !pp.isVars { try resolveChildren(parent, &pending, &builder) }
        }
    }

    private mutating func hostLine(_ line: String, group: String, at n: Int, into builder: inout InventoryBuilder) throws(ConfigError) {
        let words: [String]
        do { words = try Shlex.split(line, comments: true) } catch { throw self.error(n, "host line \"\(line)\": \(error.message)") }
        guard let entry = words.first else { return }  // only a comment after blanks
        if entry == "---" { throw error(n, "\"---\" is not a host name (this looks like a YAML file; name it .yml)") }
        var vars: [String: VarValue] = [:]
        for word in words.dropFirst() {
            guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                throw error(n, "expected key=value after the host name, got \"\(word)\"")
            }
            let key = String(word[..<eq])
            vars[key] = try self.value(String(word[word.index(after: eq)...]), key: key, at: n)
        }
        let (names, port) = try Self.hosts(entry, file: file, line: n)
        for name in names where !builder.addHost(name, to: group, port: port, vars: vars) {
            warn(n, "host \"\(name)\" already has a port; Ansible ignores the port given here, and so does fleetup")
        }
        if let problem = builder.tooManyHosts { throw error(n, problem) }
    }

    /// A host entry's names (ranges expanded) and port, or the error Ansible should have given.
    static func hosts(_ entry: String, file: String, line: Int?) throws(ConfigError) -> ([String], Int?) {
        do {
            let (pattern, port) = try HostRange.splitPort(entry)
            let names = pattern.utf8.contains(UInt8(ascii: "[")) ? try HostRange.expand(pattern) : [pattern]
            return (names, port)
        } catch {
            throw ConfigError(file: file, line: line, error.message)
        }
    }

    /// `[name]` or `[name:kind]`, with an optional trailing comment.
    static func section(_ line: String) -> (String, String?)? {
        guard let close = line.firstIndex(of: "]") else { return nil }
        let rest = strip(line[line.index(after: close)...])
        guard rest.isEmpty || rest.hasPrefix("#") else { return nil }
        let inner = line[line.index(after: line.startIndex)..<close]
        let parts = inner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let head = parts.first else { return nil }
        let name = String(head)
        guard !name.isEmpty, !name.contains(where: \.isWhitespace) else { return nil }
        guard parts.count == 2 else { return (name, nil) }
        let kind = String(parts[1])
        guard !kind.isEmpty, kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return (name, kind)
    }

    /// A line of a `[g:children]` section: one name, maybe a comment.
    static func groupName(_ line: String) -> String? {
        var name = line
        if let hash = line.firstIndex(of: "#") { name = String(line[..<hash]) }
        name = strip(name[...])
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0 == ":" || $0 == "]" }) else { return nil }
        return name
    }

    /// Python's `str.strip()`: Unicode blanks off both ends (without Foundation's bridging,
    /// which costs more than the rest of a line's parsing).
    static func strip<S: StringProtocol>(_ s: S) -> String where S.SubSequence == Substring {
        guard let first = s.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = s.lastIndex(where: { !$0.isWhitespace })!
        return String(s[first...last])
    }

    static func value(_ text: String) throws(PythonLiteral.TooDeep) -> VarValue { try PythonLiteral.parse(text) ?? .string(text) }

    /// A value of this file, its nesting limit named with the line.
    private func value(_ text: String, key: String, at line: Int) throws(ConfigError) -> VarValue {
        do { return try Self.value(text) } catch {
            throw self.error(
                line,
                "the value of \"\(key)\" nests lists, tuples or dicts deeper than \(PythonLiteral.maxNesting) levels (the limit, as in Python)"
            )
        }
    }

    private func error(_ line: Int, _ message: String) -> ConfigError { ConfigError(file: file, line: line, message) }
    private func origin(_ line: Int) -> InventoryBuilder.Origin { InventoryBuilder.Origin(file: file, line: line) }
    private mutating func warn(_ line: Int, _ message: String) { warnings.append(ConfigWarning(file: file, line: line, message)) }
}

/// Ansible warns about group names that are not valid variable names (it once rewrote them).
enum GroupNames {
    /// Warns once per name: `warned` holds the names already warned about (a search of the
    /// warnings for each group made 100,000 such groups take 71 s).
    static func check(_ name: String, file: String, line: Int?, warnings: inout [ConfigWarning], warned: inout Set<String>) {
        let ok = name.first.map { !$0.isNumber } == true && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !ok, warned.insert(name).inserted else { return }
        warnings.append(
            ConfigWarning(
                file: file, line: line,
                "group name \"\(name)\" has characters other than letters, digits and \"_\" (Ansible warns too; it is kept as written)"))
    }
}
