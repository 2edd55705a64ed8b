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
    /// Text Ansible marks unsafe (YAML `!unsafe`, a Python bytes literal in an INI value):
    /// a string that is never templated; `inventory --list` shows it as Ansible's
    /// `{"__ansible_unsafe": …}`, everything else as the plain text.
    case unsafe(String)

    /// The value as a plain string, as it is inserted into a command (`nil` for lists and maps).
    public var scalarText: String? {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .secret(let s): return s.reveal()
        case .unsafe(let s): return s
        case .list, .map: return nil
        }
    }

    /// The string held by `.string`, or nil.
    public var stringValue: String? {
        switch self {
        case .string(let s), .unsafe(let s): return s
        default: return nil
        }
    }

    /// The integer held by `.int`, or a string that is all digits (INI values arrive as text;
    /// a vault's values arrive as secrets).
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .string(let s), .unsafe(let s): return Int(s)
        case .secret(let s): return Int(s.reveal())
        default: return nil
        }
    }

    /// Every string inside made a secret (the values of a vault-encrypted file). Numbers and
    /// booleans keep their type and stay readable: redacting every `True` or `587` from
    /// output would hide nothing and garble the rest. Names of mappings are not values.
    public var sealed: VarValue {
        switch self {
        case .null, .secret, .bool, .int, .double: return self
        case .string(let s), .unsafe(let s): return .secret(Secret(s))
        case .list(let items): return .list(items.map(\.sealed))
        case .map(let m): return .map(m.mapValues(\.sealed))
        }
    }

    /// Ansible truthiness for booleans written as bool, yes/no, true/false, 1/0.
    public var boolValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .string(let s), .unsafe(let s): return Self.truth(s)
        case .secret(let s): return Self.truth(s.reveal())
        default: return nil
        }
    }

    /// The value with every `.unsafe` made a plain string (what `--host` and `--yaml` show).
    public var unmarked: VarValue {
        switch self {
        case .unsafe(let s): return .string(s)
        case .list(let items): return .list(items.map(\.unmarked))
        case .map(let m): return .map(m.mapValues(\.unmarked))
        default: return self
        }
    }

    private static func truth(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "yes", "true", "on", "1", "y": return true
        case "no", "false", "off", "0", "n", "": return false
        default: return nil
        }
    }
}

/// A secret string: its `description` is `[REDACTED]`; only `reveal()` gives the text.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// One reference: a secret is 8 bytes inside every `VarValue` (a value type as wide as
    /// its widest case), not the 32 that the text and the vault text inline would make it.
    private final class Box: Sendable {
        let value: String
        let vaultText: String?
        init(_ value: String, _ vaultText: String?) {
            self.value = value
            self.vaultText = vaultText
        }
    }

    private let box: Box
    /// The ansible-vault text an inline `!vault` value was decrypted from: what
    /// `inventory --list` shows in its place, as ansible-inventory does (never the clear text).
    public var vaultText: String? { box.vaultText }
    public init(_ value: String) { box = Box(value, nil) }
    public init(_ value: String, vaultText: String) { box = Box(value, vaultText) }

    public static func == (a: Secret, b: Secret) -> Bool {
        a.box === b.box || (a.box.value == b.box.value && a.box.vaultText == b.box.vaultText)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(box.value)
        hasher.combine(box.vaultText)
    }

    /// The clear text, for the one place that must send it (a command to the host).
    public func reveal() -> String { box.value }
    public var description: String { Secret.mask }
    public var debugDescription: String { Secret.mask }
    /// What every output shows instead of a secret.
    public static let mask = "[REDACTED]"
}
