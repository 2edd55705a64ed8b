import Foundation

/// A JSON value as it was written, numbers kept apart from booleans (JSONSerialization
/// boxes both as NSNumber).
indirect enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    static func parse(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A validator for the subset of JSON Schema (2020-12) that docs/schema uses: `type` (one
/// or a list), `const`, `enum`, `properties`, `required`, `additionalProperties` (false),
/// `items`, `minimum`, `pattern`, and `$ref` into `#/$defs/`. A keyword outside the subset is
/// an error, so the schema cannot say more than this checks.
struct SchemaSubset {
    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$defs", "$comment"]
    static let keywords: Set<String> = [
        "type", "const", "enum", "properties", "required", "additionalProperties", "items",
        "minimum", "pattern", "$ref",
    ]

    let root: [String: JSONValue]

    init(_ schema: JSONValue) throws {
        guard case .object(let o) = schema else { throw Problem(path: "schema", "is not an object") }
        root = o
    }

    struct Problem: Error, CustomStringConvertible {
        var path: String
        var message: String
        init(path: String, _ message: String) { self.path = path; self.message = message }
        var description: String { "\(path): \(message)" }
    }

    /// Every place where `value` breaks the schema ([] when it is valid).
    func problems(_ value: JSONValue) -> [Problem] {
        var out: [Problem] = []
        check(value, against: root, at: "$", into: &out)
        return out
    }

    private func resolve(_ ref: String) -> [String: JSONValue]? {
        guard ref.hasPrefix("#/$defs/"), case .object(let defs)? = root["$defs"],
            case .object(let s)? = defs[String(ref.dropFirst("#/$defs/".count))]
        else { return nil }
        return s
    }

    private func check(_ v: JSONValue, against s: [String: JSONValue], at path: String, into out: inout [Problem]) {
        for key in s.keys where !Self.keywords.contains(key) && !Self.annotations.contains(key) {
            out.append(Problem(path: path, "the schema uses \(key), which this validator does not know"))
        }
        if case .string(let ref)? = s["$ref"] {
            guard let target = resolve(ref) else { return out.append(Problem(path: path, "unresolvable $ref \(ref)")) }
            check(v, against: target, at: path, into: &out)
        }
        if let t = s["type"] {
            let allowed: [String]
            switch t {
            case .string(let one): allowed = [one]
            case .array(let many): allowed = many.compactMap { if case .string(let x) = $0 { return x } else { return nil } }
            default: allowed = []
            }
            let name = v.typeName
            let ok = allowed.contains(name) || (name == "integer" && allowed.contains("number"))
            if !ok { return out.append(Problem(path: path, "expected \(allowed.joined(separator: " or ")), found \(name)")) }
        }
        if let c = s["const"], c != v { out.append(Problem(path: path, "expected the constant \(c), found \(v)")) }
        if case .array(let options)? = s["enum"], !options.contains(v) {
            out.append(Problem(path: path, "\(v) is not one of the allowed values"))
        }
        if case .int(let min)? = s["minimum"] {
            switch v {
            case .int(let i) where i < min: out.append(Problem(path: path, "\(i) is less than \(min)"))
            case .double(let d) where d < Double(min): out.append(Problem(path: path, "\(d) is less than \(min)"))
            default: break
            }
        }
        if case .string(let pattern)? = s["pattern"], case .string(let text) = v {
            if text.range(of: pattern, options: .regularExpression) == nil {
                out.append(Problem(path: path, "\"\(text)\" does not match \(pattern)"))
            }
        }
        if case .object(let fields) = v {
            let properties: [String: JSONValue]
            if case .object(let p)? = s["properties"] { properties = p } else { properties = [:] }
            if case .array(let required)? = s["required"] {
                for case .string(let key) in required where fields[key] == nil {
                    out.append(Problem(path: path, "missing key \(key)"))
                }
            }
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                if case .object(let sub)? = properties[key] {
                    check(value, against: sub, at: "\(path).\(key)", into: &out)
                } else if s["additionalProperties"] == .bool(false) {
                    out.append(Problem(path: path, "key \(key) is not in the schema"))
                }
            }
        }
        if case .array(let items) = v, case .object(let itemSchema)? = s["items"] {
            for (i, item) in items.enumerated() { check(item, against: itemSchema, at: "\(path)[\(i)]", into: &out) }
        }
    }

    /// Keywords anywhere in the schema that this validator does not check.
    func unknownKeywords() -> [String] {
        var out: [String] = []
        func walk(_ schema: [String: JSONValue], at path: String) {
            for key in schema.keys.sorted() where !Self.keywords.contains(key) && !Self.annotations.contains(key) {
                out.append("\(path).\(key)")
            }
            for container in ["properties", "$defs"] {
                if case .object(let subs)? = schema[container] {
                    for (name, sub) in subs.sorted(by: { $0.key < $1.key }) {
                        if case .object(let o) = sub { walk(o, at: "\(path).\(container).\(name)") }
                    }
                }
            }
            if case .object(let items)? = schema["items"] { walk(items, at: "\(path).items") }
        }
        walk(root, at: "$")
        return out
    }

    /// Every property name the schema defines, anywhere in it.
    func propertyNames() -> Set<String> {
        var names: Set<String> = []
        func walk(_ v: JSONValue) {
            switch v {
            case .object(let o):
                if case .object(let p)? = o["properties"] { names.formUnion(p.keys) }
                o.values.forEach(walk)
            case .array(let a): a.forEach(walk)
            default: break
            }
        }
        walk(.object(root))
        return names
    }
}

extension SchemaSubset {
    /// The schema in a file.
    static func load(_ path: String) throws -> SchemaSubset {
        try SchemaSubset(JSONValue.parse(String(contentsOfFile: path, encoding: .utf8)))
    }

    /// The problems of `json` once `original` is replaced by `replacement` in it.
    func problems(in json: String, replacing original: String, with replacement: String) throws -> [String] {
        try problems(JSONValue.parse(json.replacingOccurrences(of: original, with: replacement))).map(\.description)
    }

    /// The schema's keys that the docs' `section` (up to the file's end) does not name in backticks.
    func keysNotExplained(in docsPath: String, section: String) throws -> [String] {
        let docs = try String(contentsOfFile: docsPath, encoding: .utf8)
        // No such section: every key is unexplained.
        guard let text = docs.components(separatedBy: section).dropFirst().first else { return propertyNames().sorted() }
        return propertyNames().filter { !text.contains("`\($0)`") && !text.contains("`\($0)[]`") }.sorted()
    }
}
