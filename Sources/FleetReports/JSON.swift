import FleetCore

/// A JSON value with object keys kept in the order given, written with two-space indents:
/// every `--json` document of fleetup's is one (docs/cli.md).
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public func render(indent: String = "") -> String {
        var out = ""
        render(into: &out, indent: indent)
        return out
    }

    /// Appends the text to `out`: one buffer for the whole document (building each level's
    /// text and copying it into its parent's made a 5,000-host run record's JSON 12 % of the
    /// run's CPU).
    func render(into out: inout String, indent: String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d):
            if d == d.rounded(), abs(d) < 1e15 { out += String(Int64(d)) } else { out += String(d) }
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { return out += "[]" }
            let inner = indent + "  "
            out += "[\n"
            for (i, item) in items.enumerated() {
                if i > 0 { out += ",\n" }
                out += inner
                item.render(into: &out, indent: inner)
            }
            out += "\n" + indent + "]"
        case .object(let fields):
            if fields.isEmpty { return out += "{}" }
            let inner = indent + "  "
            out += "{\n"
            for (i, field) in fields.enumerated() {
                if i > 0 { out += ",\n" }
                out += inner
                Self.quote(field.0, into: &out)
                out += ": "
                field.1.render(into: &out, indent: inner)
            }
            out += "\n" + indent + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

extension JSON {
    public static func int(_ n: Int) -> JSON { .number(Double(n)) }
    /// A string, or null when there is none.
    public static func text(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
    /// A time as its ISO-8601 text (`2026-12-02T03:15:01.250Z`), or null.
    public static func time(_ t: WallTime?) -> JSON { t.map { .string($0.description) } ?? .null }
    public static func int(_ n: Int?) -> JSON { n.map { .number(Double($0)) } ?? .null }
}
