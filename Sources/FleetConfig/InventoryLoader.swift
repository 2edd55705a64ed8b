import FleetCore
import Foundation
import Yams

/// Loads inventories given with `-i`: YAML files in Ansible's `yaml` format, and comma
/// lists of host names (`-i 'web1,web2,'`). Several sources are merged in order.
///
/// This is the minimal reader of the foundation issue (groups, `hosts`, `children`,
/// `vars`, `host:port`); INI, ranges, group_vars/host_vars and folders come with the full
/// Ansible-compatible loader.
public enum InventoryLoader {
    public static func load(_ sources: [String]) throws -> Inventory {
        var builder = InventoryBuilder()
        for source in sources { try add(source, to: &builder) }
        if let g = builder.cycles().first {
            throw ConfigError(file: sources.joined(separator: ", "), "group \"\(g)\" is its own ancestor (children loop)")
        }
        return builder.build()
    }

    static func add(_ source: String, to builder: inout InventoryBuilder) throws {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: source, isDirectory: &isDir) {
            // Ansible's host list: a source that is not a path and holds a comma.
            guard source.contains(",") else {
                throw ConfigError(file: source, "no such inventory file (a host list needs a comma: -i 'host1,')")
            }
            for name in source.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                let (host, port) = try splitPort(name, file: "-i", line: nil)
                builder.addHost(host, to: "ungrouped", vars: port.map { ["ansible_port": .int($0)] } ?? [:])
            }
            return
        }
        if isDir.boolValue {
            throw ConfigError(file: source, "inventory folders are not read yet; give the inventory file itself")
        }
        guard let data = FileManager.default.contents(atPath: source) else {
            throw ConfigError(file: source, "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        try YAMLInventory(file: source).read(text, into: &builder)
    }

    /// `name:port` (a trailing number after the last colon) into the name and the port.
    /// IPv6 addresses are given bare or as `[addr]:port`.
    static func splitPort(_ text: String, file: String, line: Int?) throws -> (String, Int?) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard !rest.isEmpty else { return (host, nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else {
                throw ConfigError(file: file, line: line, "host \"\(text)\": expected [address]:port")
            }
            return (host, port)
        }
        let colons = text.filter { $0 == ":" }.count
        guard colons == 1, let i = text.firstIndex(of: ":") else { return (text, nil) }
        let portText = text[text.index(after: i)...]
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigError(file: file, line: line, "host \"\(text)\": \"\(portText)\" is not a port (expected host:1-65535)")
        }
        return (String(text[..<i]), port)
    }
}

/// Ansible's `yaml` inventory format: top-level groups, each a mapping of `hosts`
/// (name -> vars or null), `children` (group -> the same structure or null) and `vars`.
struct YAMLInventory {
    let file: String

    func read(_ text: String, into builder: inout InventoryBuilder) throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw ConfigError(file: file, line: Self.line(of: e), "invalid YAML: \(Self.problem(of: e))")
        }
        guard let root else { return }  // an empty file is an empty inventory, as in Ansible
        guard let top = root.mapping else {
            throw ConfigError(file: file, line: root.mark?.line, "expected a mapping of groups (all:, children:, hosts:)")
        }
        for (key, value) in top {
            try group(try name(key), value, into: &builder)
        }
    }

    private func group(_ name: String, _ node: Node, into builder: inout InventoryBuilder) throws {
        builder.addGroup(name)
        if node.null != nil { return }
        guard let map = node.mapping else {
            throw ConfigError(file: file, line: node.mark?.line,
                              "group \"\(name)\": expected a mapping with hosts, children or vars")
        }
        for (key, value) in map {
            switch try self.name(key) {
            case "vars":
                if value.null != nil { continue }
                guard let vars = value.mapping else {
                    throw ConfigError(file: file, line: value.mark?.line, "group \"\(name)\": vars must be a mapping")
                }
                builder.setGroupVars(name, try variables(vars))
            case "hosts":
                if value.null != nil { continue }
                guard let hosts = value.mapping else {
                    throw ConfigError(file: file, line: value.mark?.line,
                                      "group \"\(name)\": hosts must be a mapping of host names (a list is not Ansible's format)")
                }
                for (hostKey, hostValue) in hosts {
                    let (host, port) = try InventoryLoader.splitPort(try self.name(hostKey), file: file, line: hostKey.mark?.line)
                    var vars: [String: VarValue] = [:]
                    if let m = hostValue.mapping {
                        vars = try variables(m)
                    } else if hostValue.null == nil {
                        throw ConfigError(file: file, line: hostValue.mark?.line,
                                          "host \"\(host)\": expected a mapping of variables or nothing")
                    }
                    if let port { vars["ansible_port"] = .int(port) }
                    builder.addHost(host, to: name, vars: vars)
                }
            case "children":
                if value.null != nil { continue }
                guard let children = value.mapping else {
                    throw ConfigError(file: file, line: value.mark?.line, "group \"\(name)\": children must be a mapping of groups")
                }
                for (childKey, childValue) in children {
                    let child = try self.name(childKey)
                    builder.addChild(child, to: name)
                    try group(child, childValue, into: &builder)
                }
            case let other:
                throw ConfigError(file: file, line: key.mark?.line,
                                  "group \"\(name)\": unknown key \"\(other)\" (expected hosts, children or vars)")
            }
        }
    }

    private func name(_ node: Node) throws -> String {
        guard let s = node.scalar?.string, !s.isEmpty else {
            throw ConfigError(file: file, line: node.mark?.line, "expected a name")
        }
        return s
    }

    private func variables(_ map: Node.Mapping) throws -> [String: VarValue] {
        var out: [String: VarValue] = [:]
        for (k, v) in map { out[try name(k)] = try YAMLValue.value(v, file: file) }
        return out
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
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        default:
            return "\(error)"
        }
    }
}

/// YAML nodes to variable values with YAML 1.1 core typing (what PyYAML, and so Ansible, reads).
enum YAMLValue {
    static func value(_ node: Node, file: String) throws -> VarValue {
        switch node {
        case .scalar(let s):
            if s.tag.description.hasSuffix("!secret") { return .secret(Secret(s.string)) }
            if s.style != .plain { return .string(s.string) }
            if let b = Bool.construct(from: s) { return .bool(b) }
            if let i = Int.construct(from: s) { return .int(i) }
            if let d = Double.construct(from: s) { return .double(d) }
            if NSNull.construct(from: s) != nil { return .null }
            return .string(s.string)
        case .sequence(let seq):
            return .list(try seq.map { try value($0, file: file) })
        case .mapping(let map):
            var out: [String: VarValue] = [:]
            for (k, v) in map {
                guard let key = k.scalar?.string else {
                    throw ConfigError(file: file, line: k.mark?.line, "expected a scalar key")
                }
                out[key] = try value(v, file: file)
            }
            return .map(out)
        case .alias:
            throw ConfigError(file: file, line: node.mark?.line, "unresolved YAML alias")
        }
    }
}
