/// Replaces a host's secret values in text that came back from it (a step's output may
/// echo a password) before anything records it: journals, reports, progress.
public struct Redactor: Sendable, Hashable {
    /// Longest first, so a secret containing another is replaced whole.
    public let secrets: [String]

    public init(_ secrets: [String] = []) {
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    /// The secret values of a host's scope (`!secret`, the playbook's `secret:`, a vault's
    /// values — inside lists and mappings too), plus `extra`.
    public init(scope: TemplateScope, extra: [String] = []) {
        var values = extra
        func collect(_ v: VarValue) {
            switch v {
            case .secret(let s): values.append(s.reveal())
            case .list(let items): items.forEach(collect)
            case .map(let m): m.values.forEach(collect)
            default: break
            }
        }
        scope.vars.values.forEach(collect)
        self.init(values)
    }

    public func redact(_ text: String) -> String {
        var out = text
        for s in secrets where out.contains(s) {
            out = out.replacingAll(s, with: Secret.mask)
        }
        return out
    }

    /// The last `lines` lines of `text`.
    public static func tail(_ text: String, lines: Int) -> String {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false)
        let kept = all.count > lines ? all.suffix(lines) : all[...]
        return kept.joined(separator: "\n")
    }

    /// At most `bytes` UTF-8 bytes from the end of `text` (whole characters).
    public static func tail(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        // A character cut at the start shows as U+FFFD, dropped with the leading partials.
        var cut = String(decoding: Array(text.utf8.suffix(bytes)), as: UTF8.self)[...]
        while cut.first == "\u{FFFD}" { cut = cut.dropFirst() }
        return "…" + cut
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
