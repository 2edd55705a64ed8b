/// Where a rendered template goes, which decides how insertions are written.
public enum TemplateContext: Sendable, Hashable {
    /// A shell command (`run:`, `version.detect`, command probes): every insertion is one
    /// shell word (`ShellQuote.quote`) unless written `| raw`.
    case shell
    /// Plain text (variable values, upload paths, URLs): insertions as they are.
    case text
}

/// The variables of one host for one step: the playbook's `vars` (defaults), overridden by
/// the inventory, overridden by `--var`, plus the run facts (`host`, `target`, `from`, `to`,
/// `release`), which nothing overrides. A variable whose value holds `{{ }}` is itself a
/// template, rendered as text when inserted (so `backup_dir: "{{ host_root }}/backups"` is
/// one word in a command, quoted once as a whole).
public struct TemplateScope: Sendable {
    /// The run facts, reserved: a variable of the same name is an error at check time.
    public static let factNames = ["host", "target", "from", "to", "release"]

    public var vars: [String: VarValue]
    public var facts: [String: String]

    public init(vars: [String: VarValue], facts: [String: String] = [:]) {
        self.vars = vars
        self.facts = facts
    }

    /// The scope of one host: playbook defaults < inventory < `--var`; names in `secret`
    /// become secret values, whichever layer gave them.
    public static func host(
        _ host: Host, defaults: [String: VarValue], overrides: [String: VarValue] = [:],
        secret: Set<String> = [], facts: [String: String] = [:]
    ) -> TemplateScope {
        var f = facts
        f["host"] = host.name
        return layered([defaults, host.vars, overrides], secret: secret, facts: f)
    }

    /// Layers of variables, later ones winning, with the names in `secret` made secret
    /// values whichever layer gave them (a host's scope; a hook's, which has no host).
    public static func layered(_ layers: [[String: VarValue]], secret: Set<String>, facts: [String: String]) -> TemplateScope {
        var vars = layers.first ?? [:]
        for layer in layers.dropFirst() { for (k, v) in layer { vars[k] = v } }
        for name in secret {
            if let v = vars[name], case .secret = v {
            } else if let text = vars[name]?.scalarText {
                vars[name] = .secret(Secret(text))
            }
        }
        return TemplateScope(vars: vars, facts: facts)
    }

    /// The same scope with some facts set.
    public func with(_ facts: [String: String]) -> TemplateScope {
        var copy = self
        for (k, v) in facts { copy.facts[k] = v }
        return copy
    }

    /// Variables may refer to variables (`backup_path: "{{ backup_dir }}/x"`) this many
    /// levels deep: real chains have a handful, and each level is a frame of recursion (a
    /// chain 20,000 deep overflowed the stack).
    public static let maxDepth = 100

    /// The most one rendered template may hold, in bytes: 128 KB, the longest single
    /// argument Linux passes to a program (MAX_ARG_STRLEN), so no longer command could run
    /// anyway. Variables that double each other (`t1: "{{t0}}{{t0}}"` ... `t24`) grew
    /// without end.
    public static let maxOutput = 128 << 10

    /// Renders `template` for this host.
    public func render(_ template: Template, as context: TemplateContext) throws(TemplateError) -> Rendered {
        var state = State()
        return try render(template, context, &state)
    }

    /// A variable or fact as text (its own templates rendered); nil when it is unknown.
    public func text(of name: String) throws(TemplateError) -> Rendered? {
        var state = State()
        return try lookup(name, &state)
    }

    /// One rendering's variables in progress, and those already rendered: a variable used
    /// twice is rendered once (`t1: "{{t0}}{{t0}}"` 24 levels deep was 2^24 renderings).
    private struct State {
        var stack: [String] = []
        var done: [String: Rendered] = [:]
    }

    /// A variable's value before rendering (facts as strings).
    public func value(of name: String) -> VarValue? {
        if let f = facts[name] { return .string(f) }
        return vars[name]
    }

    /// Every name a template may use here.
    public var names: [String] { Array(Set(vars.keys).union(facts.keys)).sorted() }

    private func render(_ template: Template, _ context: TemplateContext, _ state: inout State) throws(TemplateError) -> Rendered {
        var text = "", display = ""
        for part in template.parts {
            switch part {
            case .text(let t):
                text += t
                display += t
            case .variable(let name, let raw):
                guard let value = try lookup(name, &state) else { throw unknown(name) }
                if raw || context == .text {
                    text += value.text
                    display += value.display
                } else {
                    text += ShellQuote.quote(value.text)
                    // A secret shows as the mask alone, not a quoted mask.
                    display +=
                        value.display == value.text
                        ? ShellQuote.quote(value.text)
                        : value.display == Secret.mask ? Secret.mask : ShellQuote.quote(value.display)
                }
            }
            if text.utf8.count > Self.maxOutput {
                throw TemplateError(
                    "renders to more than \(Self.maxOutput / 1024) KB (the limit: the longest argument Linux passes to a command)")
            }
        }
        return Rendered(text: text, display: display)
    }

    private func lookup(_ name: String, _ state: inout State) throws(TemplateError) -> Rendered? {
        if let f = facts[name] { return Rendered(text: f, display: f) }
        guard let value = vars[name] else { return nil }
        switch value {
        case .secret(let s):
            return Rendered(text: s.reveal(), display: Secret.mask)
        case .unsafe(let s):
            return Rendered(text: s, display: s)  // never templated, as in Ansible
        case .list, .map:
            let kind = value.isList ? "a list" : "a mapping"
            throw TemplateError("variable \"\(name)\" is \(kind); a template inserts text, numbers or booleans")
        case .string(let s) where s.contains("{{"):
            if let done = state.done[name] { return done }
            if let i = state.stack.firstIndex(of: name) {
                throw TemplateError("variable \"\(name)\" refers to itself (\((state.stack[i...] + [name]).joined(separator: " -> ")))")
            }
            if state.stack.count == Self.maxDepth {
                throw TemplateError(
                    "variables refer to variables more than \(Self.maxDepth) deep (the limit): \(state.stack.prefix(3).joined(separator: " -> ")) -> …"
                )
            }
            state.stack.append(name)
            defer { state.stack.removeLast() }
            do {
                let rendered = try render(try Template(parsing: s), .text, &state)
                state.done[name] = rendered
                return rendered
            } catch {
                // The innermost variable names the problem; outer ones only pass it on.
                if error.message.hasPrefix("in variable ") || error.message.contains("refers to itself")
                    || error.message.hasPrefix("variables refer to variables")
                {
                    throw error
                }
                throw TemplateError("in variable \"\(name)\": \(error.message)")
            }
        default:
            let t = value.scalarText ?? ""
            return Rendered(text: t, display: t)
        }
    }

    private func unknown(_ name: String) -> TemplateError {
        if let near = Self.nearest(name, in: names) {
            return TemplateError("unknown variable \"\(name)\" (did you mean \"\(near)\"?)")
        }
        return TemplateError("unknown variable \"\(name)\"")
    }

    /// A known name at most two edits away (a typo), if exactly one is closest.
    public static func nearest(_ name: String, in names: [String]) -> String? {
        var best: (String, Int)? = nil
        var tie = false
        for n in names {
            let d = distance(Array(name.utf8), Array(n.utf8))
            guard d <= 2, d < name.utf8.count else { continue }
            if best == nil || d < best!.1 { best = (n, d); tie = false } else if d == best!.1 { tie = true }
        }
        return tie ? nil : best?.0
    }

    private static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        // Names whose lengths differ by more than two are more than two edits apart: no
        // table for them (an inventory's long names made every unknown variable slow).
        if abs(a.count - b.count) > 2 || a.count > 256 { return 3 }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}

extension VarValue {
    var isList: Bool {
        if case .list = self { return true }
        return false
    }
}
