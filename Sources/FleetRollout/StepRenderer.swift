import FleetCore

/// Renders a playbook step for one host and hop: its templates, its `when:`, its `become`.
struct StepRenderer {
    enum Outcome {
        case planned(PlannedStep)
        case skipped(SkippedStep)
    }

    let playbook: Playbook
    /// The hop's release flags.
    let flags: [String: Bool]

    func render(_ step: Step, release: String?, scope: TemplateScope) throws(PathError) -> Outcome {
        for condition in step.when {
            let (holds, reason) = try Self.evaluate(condition, flags: flags, scope: scope, line: step.line)
            if !holds { return .skipped(SkippedStep(name: step.title, reason: reason, release: release, line: step.line)) }
        }
        let action: PlannedAction
        var shownName = step.title
        do {
            switch step.action {
            case .run(let t):
                var command = try scope.render(t, as: .shell)
                // An unnamed step is shown by its command as rendered (not its template).
                if step.name.isEmpty { shownName = Step.short(command.display) }
                if let dir = step.chdir ?? playbook.chdir {
                    command = Self.inFolder(try scope.render(dir, as: .shell), command)
                }
                action = .run(command.command(timeout: step.timeout))
            case .upload(let src, let dest, let mode):
                let s = try scope.render(src, as: .text), d = try scope.render(dest, as: .text)
                action = .upload(
                    UploadPlan(
                        source: Self.resolve(s.text, from: playbook.file), destination: d.text, mode: mode,
                        sourceDisplay: Self.resolve(s.display, from: playbook.file), destinationDisplay: d.display))
            }
        } catch {
            throw PathError(.render, "step \"\(step.title)\": \(error.message)", line: step.line)
        }
        // The inventory's ansible_become, when it says anything, beats the step's become:
        // (Ansible: variables beat keywords), so a fleet without sudo can turn it off.
        // Uploads go over SFTP as the SSH user: become does not apply to them.
        var become = scope.vars["ansible_become"]?.boolValue ?? step.become ?? false
        if case .upload = action { become = false }
        var user: String?
        if become, let u = step.becomeUser {
            do {
                user = try scope.render(u, as: .text).text
            } catch {
                throw PathError(.render, "step \"\(step.title)\": become_user: \(error.message)", line: step.line)
            }
        }
        return .planned(
            PlannedStep(
                name: shownName, action: action, become: become, becomeUser: user, retries: step.retries,
                noReturn: step.noReturn, release: release, line: step.line))
    }

    /// Whether a `when:` holds, and the words that say why not (`restart_streaming is false`).
    static func evaluate(
        _ c: StepCondition, flags: [String: Bool], scope: TemplateScope,
        line: Int?
    ) throws(PathError) -> (Bool, String) {
        let shown: String
        let text: String
        var truth: Bool?
        if let flag = flags[c.name] {
            truth = flag
            text = flag ? "true" : "false"
            shown = text
        } else {
            guard let raw = scope.value(of: c.name) else {
                let near = TemplateScope.nearest(c.name, in: scope.names + flags.keys).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw PathError(.render, "when: unknown variable or release flag \"\(c.name)\"\(near)", line: line)
            }
            let rendered: Rendered
            do {
                rendered = try scope.text(of: c.name) ?? Rendered(text: "", display: "")
            } catch {
                throw PathError(.render, "when: \(error.message)", line: line)
            }
            text = rendered.text
            switch raw {
            case .bool(let b): truth = b; shown = b ? "true" : "false"
            default:
                truth = VarValue.string(rendered.text).boolValue
                shown = "\"\(rendered.display)\""
            }
        }
        var holds: Bool
        switch c.test {
        case .isTrue:
            guard let t = truth else {
                throw PathError(.render, "when: \"\(c.name)\" is \(shown), not a boolean (compare it: \(c.name) == \(shown))", line: line)
            }
            holds = t
        case .equals(let v): holds = text == v
        case .notEquals(let v): holds = text != v
        }
        if c.negated { holds.toggle() }
        return (holds, "\(c.name) is \(shown)")
    }

    /// `cd DIR && CMD`; a command of several lines gets `cd DIR || exit 1` on a line of its own.
    static func inFolder(_ dir: Rendered, _ command: Rendered) -> Rendered {
        let multi = command.text.contains("\n")
        let glue = multi ? " || exit 1\n" : " && "
        return Rendered(text: "cd " + dir.text + glue + command.text, display: "cd " + dir.display + glue + command.display)
    }

    /// A local path as written, relative ones from the playbook's folder (as Ansible does).
    static func resolve(_ path: String, from playbookFile: String) -> String {
        if path.hasPrefix("/") || path.hasPrefix("~") { return path }
        guard let slash = playbookFile.lastIndex(of: "/") else { return path }
        return String(playbookFile[...slash]) + path
    }
}
