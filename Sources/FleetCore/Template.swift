/// A playbook text with `{{ name }}` insertions, parsed once and rendered per host.
///
/// Three forms only, on purpose (a template language in an upgrade plan is a place for
/// mistakes to hide): `{{ name }}` inserts a variable or run fact, shell-quoted when the
/// text is a command; `{{ name | raw }}` inserts it as written; `{{ 'text' }}` inserts the
/// literal text (the way to write `{{` itself). `{% %}` statements are refused: steps use `when:`.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case text(String)
        /// A variable or fact; `raw` when written with `| raw`.
        case variable(String, raw: Bool)
    }

    /// As written in the playbook.
    public let source: String
    public let parts: [Part]

    /// A text without insertions (never parsed: `{{` in it stays as it is).
    public init(literal: String) {
        source = literal
        parts = literal.isEmpty ? [] : [.text(literal)]
    }

    public init(parsing source: String) throws(TemplateError) {
        self.source = source
        var parts: [Part] = []
        var rest = Substring(source)
        var text = ""
        while let open = rest.firstRange(of: "{{") {
            text += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else {
                throw TemplateError("unclosed \"{{\" (expected \"}}\" after it)")
            }
            let inner = String(after[..<close.lowerBound]).trimmingSpaces()
            rest = after[close.upperBound...]
            if let literal = Self.stringLiteral(inner) {
                text += literal
                continue
            }
            if !text.isEmpty { parts.append(.text(text)); text = "" }
            parts.append(try Self.insertion(inner))
        }
        if rest.contains("{%") { throw TemplateError("\"{%\" statements are not supported (use when: on a step)") }
        text += rest
        if !text.isEmpty { parts.append(.text(text)) }
        self.parts = parts
    }

    /// The variables and facts it inserts, each once, in order.
    public var variables: [String] {
        var seen = Set<String>()
        return parts.compactMap {
            if case .variable(let n, _) = $0, seen.insert(n).inserted { return n }
            return nil
        }
    }

    /// True when the template has no insertions.
    public var isLiteral: Bool { variables.isEmpty }

    public var description: String { source }

    private static func stringLiteral(_ inner: String) -> String? {
        guard inner.count >= 2, let q = inner.first, q == "'" || q == "\"", inner.last == q else { return nil }
        let body = inner.dropFirst().dropLast()
        return body.contains(q) ? nil : String(body)
    }

    private static func insertion(_ inner: String) throws(TemplateError) -> Part {
        let pieces = inner.split(separator: "|", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        let name = pieces[0]
        guard !name.isEmpty else { throw TemplateError("empty \"{{ }}\" (expected a variable name inside)") }
        guard isName(name) else {
            throw TemplateError("\"{{ \(inner) }}\": expected a variable name (letters, digits and _), optionally followed by | raw")
        }
        var raw = false
        for filter in pieces.dropFirst() {
            switch filter {
            case "raw": raw = true
            case "quote": raw = false
            case "": throw TemplateError("\"{{ \(inner) }}\": expected a filter name after \"|\" (raw)")
            default: throw TemplateError("unknown filter \"\(filter)\" in \"{{ \(inner) }}\" (expected raw)")
            }
        }
        return .variable(name, raw: raw)
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isName(_ s: String) -> Bool {
        guard let f = s.utf8.first, f == 95 || (f | 0x20 >= 97 && f | 0x20 <= 122) else { return false }
        return s.utf8.allSatisfy { c in c == 95 || (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) }
    }
}

/// A problem with a template: its syntax, or a value it inserts. Lower case, saying what
/// was expected; the caller adds the file and line.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A rendered template: the text sent to the host, and the same text as output shows it
/// (secrets replaced by `[REDACTED]`).
public struct Rendered: Sendable, Hashable {
    public var text: String
    public var display: String
    public init(text: String, display: String) {
        self.text = text
        self.display = display
    }

    /// The text as a command to run.
    public func command(timeout: Duration? = nil) -> RemoteCommand {
        RemoteCommand(text, display: display, timeout: timeout)
    }
}
