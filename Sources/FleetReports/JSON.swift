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
    /// An array whose elements are made one at a time as they are written, each dropped
    /// before the next is made (a 5,000-host run's hosts: their tree was ~40 MB at once).
    case elements(Int, @Sendable (Int) -> JSON)

    public func render(indent: String = "") -> String {
        String(decoding: bytes(indent: indent), as: UTF8.self)
    }

    /// `render`'s text as UTF-8 bytes, written into one buffer (a 5,000-host run record's JSON
    /// was 12 % of the run's CPU when each level's text was built and copied into its
    /// parent's, and most of the rest went to appending to a `String` scalar by scalar).
    public func bytes(indent: String = "") -> [UInt8] {
        var w = Writer(indent: Array(indent.utf8))
        w.write(self)
        return w.out
    }

    static func quote(_ s: String) -> String {
        var w = Writer(indent: [])
        w.quote(s)
        return String(decoding: w.out, as: UTF8.self)
    }

    /// The text, with two-space indents deeper at each level.
    struct Writer {
        var out: [UInt8] = []
        var indent: [UInt8]

        mutating func write(_ value: JSON) {
            switch value {
            case .null: append("null")
            case .bool(let b): append(b ? "true" : "false")
            case .number(let d):
                if d == d.rounded(), abs(d) < 1e15 {
                    out.append(contentsOf: String(Int64(d)).utf8)
                } else {
                    out.append(contentsOf: String(d).utf8)
                }
            case .string(let s): quote(s)
            case .array(let items): array(items.count) { items[$0] }
            case .elements(let count, let item): array(count, item)
            case .object(let fields):
                if fields.isEmpty { return append("{}") }
                open("{")
                for (i, field) in fields.enumerated() {
                    next(first: i == 0)
                    quote(field.0)
                    append(": ")
                    write(field.1)
                }
                close("}")
            }
        }

        private mutating func array(_ count: Int, _ item: (Int) -> JSON) {
            if count == 0 { return append("[]") }
            open("[")
            for i in 0..<count {
                next(first: i == 0)
                write(item(i))
            }
            close("]")
        }

        private mutating func open(_ bracket: StaticString) {
            append(bracket)
            indent.append(UInt8(ascii: " "))
            indent.append(UInt8(ascii: " "))
        }

        /// A new line at the current indent, after a comma unless it is the first item.
        private mutating func next(first: Bool) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: indent)
        }

        private mutating func close(_ bracket: StaticString) {
            indent.removeLast(2)
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: indent)
            append(bracket)
        }

        private mutating func append(_ text: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        /// `"text"`: `\b` and `\f` as `\u0008` and `\u000c`, as fleetup's documents always wrote them.
        mutating func quote(_ s: String) {
            JSONQuote.append(s, to: &out, backspaceAndFormFeed: false)
        }
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
