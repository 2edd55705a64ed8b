/// A variable's value as inventories, playbooks and `--var` hold it (the JSON data model).
public enum VarValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([VarValue])
    case map([String: VarValue])
    /// A value marked secret (`!secret`, or named in a playbook's `secret:`): prints `[REDACTED]`.
    case secret(Secret)

    /// The value as a plain string, as it is inserted into a command (`nil` for lists and maps).
    public var scalarText: String? {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .secret(let s): return s.reveal()
        case .list, .map: return nil
        }
    }

    /// The string held by `.string`, or nil.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer held by `.int`, or a string that is all digits (INI values arrive as text).
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    /// Ansible truthiness for booleans written as bool, yes/no, true/false, 1/0.
    public var boolValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .string(let s):
            switch s.lowercased() {
            case "yes", "true", "on", "1", "y": return true
            case "no", "false", "off", "0", "n", "": return false
            default: return nil
            }
        default: return nil
        }
    }
}

/// A secret string: its `description` is `[REDACTED]`; only `reveal()` gives the text.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String
    public init(_ value: String) { self.value = value }
    /// The clear text, for the one place that must send it (a command to the host).
    public func reveal() -> String { value }
    public var description: String { Secret.mask }
    public var debugDescription: String { Secret.mask }
    /// What every output shows instead of a secret.
    public static let mask = "[REDACTED]"
}
