import ArgumentParser
import FleetConfig
import FleetCore
import FleetReports
import Foundation
import Testing
import Yams

@testable import FleetCLI

/// docs/ci/: the GitHub Actions workflow and the GitLab CI file docs/ci.md tells operators to
/// copy. Both must parse as YAML with the shape their CI system needs, every `fleetup` line of
/// their scripts must be one fleetup's own parser (`Fleetup.parseAsRoot`) accepts, and docs/ci.md
/// must show them as they are. Nothing runs: no host, no network.
@Suite("docs/ci: the CI recipes")
struct CIRecipeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// What a shell variable becomes in the words handed to the parser.
    static let placeholder = "VALUE"

    /// Where the run and resume lines copy their reports (`--output`), which the artifacts keep.
    static let reports = "fleetup-reports"

    static func text(_ file: String) throws -> String {
        try String(contentsOfFile: root + "/" + file, encoding: .utf8)
    }

    /// A file's YAML composed, not loaded: keys stay the text they are, so GitHub's `on:` is the
    /// key "on" (a YAML 1.1 loader reads it as true). Aliases come back as the nodes they name.
    static func yaml(_ file: String) throws -> Node {
        let node = try Yams.compose(yaml: try text(file))
        return try #require(node, "\(file): empty")
    }

    // MARK: - Shell lines

    /// One `fleetup …` line of a script: where it is, as written, and its words.
    struct Command: CustomStringConvertible {
        var job: String
        var line: String
        var words: [String]
        /// The subcommand (`run`, `plan`, …), or the first flag (`--version`).
        var name: String { words.count > 1 ? words[1] : "" }
        var description: String { "\(job): \(line)" }
    }

    /// Why a line cannot be split here (command substitution is not followed).
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    /// The `fleetup` lines of a script, each with its `\` continuations joined; comments and
    /// other commands are left out.
    static func fleetupLines(_ script: String) -> [String] {
        var lines: [String] = []
        var pending = ""
        for raw in script.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\\") && !line.hasPrefix("#") {
                pending += line.dropLast() + " "
                continue
            }
            let whole = pending + line
            pending = ""
            if whole == "fleetup" || whole.hasPrefix("fleetup ") { lines.append(whole) }
        }
        return lines
    }

    /// A shell line split into words as sh would, enough for these files: single and double
    /// quotes, backslash escapes, `$NAME`, `${NAME}`, `$?` and GitHub's `${{ … }}` each replaced by
    /// one placeholder, and the command ending at `>`, `<`, `|`, `&`, `;` or a comment.
    static func words(_ line: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var started = false
        var quote: Character? = nil
        let chars = Array(line)
        var i = 0
        func finish() {
            if started { words.append(word) }
            word = ""
            started = false
        }
        /// `$…` at `i`: appends the placeholder and returns the index after it.
        func variable(at i: Int) throws -> Int {
            let next = i + 1 < chars.count ? chars[i + 1] : " "
            if next == "(" { throw Unsupported(description: "command substitution in \(line)") }
            if next == "{" {
                let closing = chars[(i + 2)...].starts(with: "{") ? "}}" : "}"
                guard let end = String(chars[(i + 2)...]).range(of: closing) else {
                    throw Unsupported(description: "unclosed ${ in \(line)")
                }
                word += placeholder
                return i + 2 + String(chars[(i + 2)...])[..<end.upperBound].count
            }
            if next == "?" || next == "@" || next == "#" {
                word += placeholder
                return i + 2
            }
            var j = i + 1
            while j < chars.count, chars[j] == "_" || chars[j].isLetter || (j > i + 1 && chars[j].isNumber) { j += 1 }
            word += j == i + 1 ? "$" : placeholder
            return j
        }
        while i < chars.count {
            let c = chars[i]
            switch quote {
            case "'":
                if c == "'" { quote = nil } else { word.append(c) }
                i += 1
            case "\"":
                if c == "\"" {
                    quote = nil
                    i += 1
                } else if c == "\\", i + 1 < chars.count, "\"\\$`".contains(chars[i + 1]) {
                    word.append(chars[i + 1])
                    i += 2
                } else if c == "$" {
                    i = try variable(at: i)
                } else if c == "`" {
                    throw Unsupported(description: "command substitution in \(line)")
                } else {
                    word.append(c)
                    i += 1
                }
            default:
                if c == " " || c == "\t" {
                    finish()
                    i += 1
                } else if c == "#" && !started {
                    i = chars.count
                } else if ">|<&;".contains(c) {
                    // `2>` names a descriptor, not a word.
                    if (c == ">" || c == "<") && started && !word.isEmpty && word.allSatisfy(\.isNumber) { started = false }
                    i = chars.count
                } else if c == "'" || c == "\"" {
                    quote = c
                    started = true
                    i += 1
                } else if c == "\\", i + 1 < chars.count {
                    word.append(chars[i + 1])
                    started = true
                    i += 2
                } else if c == "$" {
                    started = true
                    i = try variable(at: i)
                } else if c == "`" {
                    throw Unsupported(description: "command substitution in \(line)")
                } else {
                    word.append(c)
                    started = true
                    i += 1
                }
            }
        }
        if quote != nil { throw Unsupported(description: "unclosed quote in \(line)") }
        finish()
        return words
    }

    static func commands(in script: String, job: String) throws -> [Command] {
        try fleetupLines(script).map { Command(job: job, line: $0, words: try words($0)) }
    }

    /// The command fleetup's own parser makes of the words (validation included), or why it
    /// refuses them. `--version` and `--help` are accepted: fleetup prints and exits 0.
    static func parse(_ words: [String]) -> Result<(any ParsableCommand)?, ParseRefusal> {
        do {
            return .success(try Fleetup.parseAsRoot(Array(words.dropFirst())))
        } catch {
            if Fleetup.exitCode(for: error) == .success { return .success(nil) }
            return .failure(ParseRefusal(description: Fleetup.fullMessage(for: error)))
        }
    }

    struct ParseRefusal: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: - YAML helpers

    /// A mapping's value under a key written as `key` (compared as text).
    static func value(_ node: Node?, _ key: String) -> Node? {
        node?.mapping?.first { $0.key.scalar?.string == key }?.value
    }

    static func string(_ node: Node?, _ key: String) -> String? {
        value(node, key)?.scalar?.string
    }

    /// A script key's text: a string, or a list (of lists) of strings, one after the other.
    static func script(_ node: Node?) -> String {
        guard let node else { return "" }
        if let s = node.scalar { return s.string }
        return node.sequence.map { $0.map(script).joined(separator: "\n") } ?? ""
    }

    /// Every scalar under a node, for "this job mentions no secret".
    static func scalars(_ node: Node) -> [String] {
        if let s = node.scalar { return [s.string] }
        if let m = node.mapping { return m.flatMap { scalars($0.key) + scalars($0.value) } }
        return node.sequence?.flatMap(scalars) ?? []
    }

    // MARK: - What both files must do

    /// Every command parses; the commands are exactly `expected` (job by job, in file order:
    /// no pass on an empty or shrunk result); `run` only in `runJob`, `resume` and `approve`
    /// only in `resumeJob`, `check` and `plan` only in `planJob`; every run and resume that
    /// connects checks host keys strictly against a known_hosts file and copies its reports to
    /// `reports`, whose JUnit file is `junit`.
    static func checkCommands(
        _ commands: [Command], expected: [String: [String]], planJob: String, runJob: String, resumeJob: String, junit: String
    ) {
        var byJob: [String: [String]] = [:]
        for c in commands { byJob[c.job, default: []].append(c.name) }
        #expect(byJob == expected, "the fleetup commands of each job")
        #expect(commands.count == expected.values.map(\.count).reduce(0, +))

        for c in commands {
            switch c.name {
            case "run": #expect(c.job == runJob, "run outside the protected branch's job: \(c)")
            case "resume", "approve", "lock": #expect(c.job == resumeJob, "\(c.name) outside the resume job: \(c)")
            case "check", "plan": #expect(c.job == planJob, "\(c.name) outside the pull request's job: \(c)")
            default: break
            }
            switch parse(c.words) {
            case .failure(let refusal):
                Issue.record("fleetup refuses \(c): \(refusal)")
            case .success(let command as RunCommand):
                #expect(command.connection.hostKeyPolicy == .strict, "\(c)")
                #expect(!command.connection.knownHosts.isEmpty, "\(c)")
                #expect(command.connection.privateKey != nil, "\(c)")
                #expect(command.run.output == reports, "\(c)")
            case .success(let command as ResumeCommand) where !command.planOnly:
                #expect(command.connection.hostKeyPolicy == .strict, "\(c)")
                #expect(!command.connection.knownHosts.isEmpty, "\(c)")
                #expect(command.connection.privateKey != nil, "\(c)")
                #expect(command.run.output == reports, "\(c)")
            case .success(let command as PlanCommand):
                #expect(!command.detect, "a pull request's plan connects to no host: \(c)")
            case .success(let command as ReportCommand):
                #expect(command.output == reports, "\(c)")
            case .success(let command as LockCommand.Release):
                #expect(command.force, "\(c)")
                #expect(command.target.connection.hostKeyPolicy == .strict, "\(c)")
                #expect(!command.target.connection.knownHosts.isEmpty, "\(c)")
            case .success:
                break
            }
        }
        #expect(junit == reports + "/" + RunReportFormat.junit.fileName)
    }

    // MARK: - The tests

    @Test("the checker refuses an unknown flag, a flag without its value and a bad value, and splits words as sh does")
    func checkerRefuses() throws {
        let good = ["fleetup", "run", "book.yml", "-i", "hosts.ini", "--output", "out"]
        guard case .success = Self.parse(good) else { Issue.record("refused \(good)"); return }
        for bad in [good + ["--no-such-flag"], good + ["--known-hosts"], good + ["--host-key-policy", "no"], ["fleetup", "runn"]] {
            guard case .failure = Self.parse(bad) else { Issue.record("accepted \(bad)"); continue }
        }
        #expect(
            try Self.words(#"fleetup run "$PLAYBOOK" -i "$CI_PROJECT_DIR/inv" --reason 'a b' --x "${{ inputs.run }}" > out.txt || s=$?"#)
                == ["fleetup", "run", "VALUE", "-i", "VALUE/inv", "--reason", "a b", "--x", "VALUE"])
        #expect(try Self.words(#"fleetup plan "" 2>err # note"#) == ["fleetup", "plan", ""])
        #expect(Self.fleetupLines("x\n  fleetup run a \\\n    -i b\n# fleetup plan\necho fleetup") == ["fleetup run a  -i b"])
        #expect(throws: Unsupported.self) { try Self.words("fleetup run $(cat f)") }
    }

    @Test("GitHub Actions: plan on pull requests, run and resume on main behind the production environment")
    func githubActions() throws {
        let file = "docs/ci/github-actions.yml"
        let doc = try Self.yaml(file)
        let on = try #require(Self.value(doc, "on"), "\(file): no on:")
        #expect(Self.value(on, "pull_request") != nil)
        #expect(Self.value(Self.value(on, "push"), "branches")?.array(of: String.self) == ["main"])
        #expect(Self.value(on, "workflow_dispatch") != nil)
        let jobs = try #require(Self.value(doc, "jobs")?.mapping, "\(file): no jobs:")
        #expect(Set(jobs.keys.compactMap { $0.scalar?.string }) == ["plan", "upgrade"])
        let plan = try #require(Self.value(Self.value(doc, "jobs"), "plan"))
        let upgrade = try #require(Self.value(Self.value(doc, "jobs"), "upgrade"))
        #expect(Self.string(plan, "if") == "github.event_name == 'pull_request'")
        #expect(Self.string(upgrade, "if")?.contains("github.ref == 'refs/heads/main'") == true)
        #expect(Self.string(upgrade, "environment") == "production")
        #expect(Self.string(Self.value(upgrade, "concurrency"), "group")?.isEmpty == false)
        #expect(Self.value(Self.value(upgrade, "concurrency"), "cancel-in-progress")?.bool == false)
        #expect(Self.string(Self.value(upgrade, "env"), "FLEETUP_STATE_DIR")?.hasSuffix("/fleetup-state") == true)
        // The pull request's job sees no secret.
        #expect(!Self.scalars(plan).contains { $0.contains("secrets.") })

        var commands: [Command] = []
        var uploads: [String] = []
        for (key, job) in jobs {
            let name = try #require(key.scalar?.string)
            let steps = try #require(Self.value(job, "steps")?.sequence, "\(file): job \(name) has no steps")
            #expect(!steps.isEmpty)
            for step in steps {
                if let run = Self.string(step, "run") { commands += try Self.commands(in: run, job: name) }
                guard let uses = Self.string(step, "uses") else { continue }
                #expect(
                    ["actions/checkout@v4", "actions/upload-artifact@v4", "actions/download-artifact@v4"].contains(uses),
                    "\(name): \(uses): only GitHub's own actions")
                if uses.hasPrefix("actions/upload-artifact@") {
                    // A halted or killed run's reports and journal are kept too.
                    #expect(Self.string(step, "if") == "always()", "\(name): \(uses)")
                    uploads += (Self.string(Self.value(step, "with"), "path") ?? "").split(separator: "\n").map(String.init)
                }
            }
        }
        #expect(uploads.contains(Self.reports + "/"))
        #expect(uploads.contains("fleetup-state/runs/"))
        #expect(uploads.contains("fleetup-state/locks/released.log"))
        Self.checkCommands(
            commands,
            expected: [
                "plan": ["--version", "check", "plan", "plan"],
                "upgrade": ["--version", "run", "lock", "approve", "resume", "resume", "resume", "report"],
            ],
            planJob: "plan", runJob: "upgrade", resumeJob: "upgrade", junit: Self.reports + "/report.junit.xml")
    }

    @Test("GitLab CI: plan on merge requests, run and resume by hand on the default branch, JUnit published")
    func gitlabCI() throws {
        let file = "docs/ci/gitlab-ci.yml"
        let doc = try Self.yaml(file)
        let top = try #require(doc.mapping, "\(file): not a mapping")
        let stages = Self.value(doc, "stages")?.array(of: String.self) ?? []
        #expect(stages == ["check", "upgrade"])
        let reserved: Set<String> = ["stages", "variables", "default", "workflow", "include"]
        let names = Array(top.keys.compactMap { $0.scalar?.string }.filter { !reserved.contains($0) })
        let jobs = names.filter { !$0.hasPrefix(".") }
        #expect(jobs == ["fleetup:plan", "fleetup:run", "fleetup:resume"])
        #expect(Self.string(Self.value(doc, "variables"), "FLEETUP_STATE_DIR")?.hasSuffix("/fleetup-state") == true)

        /// A job's key, from the job or the templates it extends.
        func inherited(_ job: String, _ key: String) -> Node? {
            var name: String? = job
            while let n = name, let node = Self.value(doc, n) {
                if let v = Self.value(node, key) { return v }
                name = Self.string(node, "extends")
            }
            return nil
        }
        for job in jobs {
            #expect(stages.contains(inherited(job, "stage")?.scalar?.string ?? ""), "\(job): its stage")
            #expect(inherited(job, "script") != nil, "\(job): no script")
        }
        let rule = { (job: String) in inherited(job, "rules")?.sequence?.first }
        #expect(Self.string(rule("fleetup:plan"), "if") == #"$CI_PIPELINE_SOURCE == "merge_request_event""#)
        for job in ["fleetup:run", "fleetup:resume"] {
            #expect(Self.string(rule(job), "if")?.contains("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH") == true, "\(job)")
            #expect(Self.string(rule(job), "when") == "manual", "\(job)")
            #expect(Self.string(inherited(job, "environment"), "name") == "production", "\(job)")
            #expect(inherited(job, "resource_group")?.scalar?.string == "fleetup-production", "\(job)")
            let artifacts = inherited(job, "artifacts")
            #expect(Self.string(artifacts, "when") == "always", "\(job)")
            #expect(
                Self.value(artifacts, "paths")?.array(of: String.self) == [
                    Self.reports + "/", "fleetup-state/runs/", "fleetup-state/locks/released.log",
                ], "\(job)")
        }
        let junit = Self.string(Self.value(inherited("fleetup:run", "artifacts"), "reports"), "junit") ?? ""

        var commands: [Command] = []
        for name in names {
            for key in ["before_script", "script", "after_script"] {
                commands += try Self.commands(in: Self.script(Self.value(Self.value(doc, name), key)), job: name)
            }
        }
        Self.checkCommands(
            commands,
            expected: [
                ".fleetup": ["--version"],
                ".fleetup-upgrade": ["--version", "report"],
                "fleetup:plan": ["check", "plan", "plan"],
                "fleetup:run": ["run"],
                "fleetup:resume": ["lock", "approve", "resume", "resume", "resume"],
            ],
            planJob: "fleetup:plan", runJob: "fleetup:run", resumeJob: "fleetup:resume", junit: junit)
    }

    @Test("host keys are checked everywhere: neither file turns the check off or accepts new keys")
    func hostKeys() throws {
        for file in ["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"] {
            let text = try Self.text(file)
            for bad in ["StrictHostKeyChecking", "accept-new", "ansible_host_key_checking", "--host-key-policy=", "/dev/null"] {
                #expect(!text.contains(bad), "\(file) mentions \(bad)")
            }
        }
    }

    @Test("the vault password reaches fleetup as ANSIBLE_VAULT_PASSWORD_FILE, which fleetup reads as --vault-password-file's fallback")
    func vaultPassword() throws {
        let name = "ANSIBLE_VAULT_PASSWORD_FILE"
        let config = try AnsibleConfig.load(environment: [name: "/run/vault-password"], currentFolder: "/nonexistent", home: "/nonexistent")
        #expect(config[.vaultPasswordFile]?.value == "/run/vault-password")
        let github = try Self.text("docs/ci/github-actions.yml")
        #expect(github.contains("echo \"\(name)=$RUNNER_TEMP/fleetup-ssh/vault-password\" >> \"$GITHUB_ENV\""))
        #expect(try Self.text("docs/ci/gitlab-ci.yml").contains("export \(name)=\"$FLEETUP_SSH_DIR/vault-password\""))
        // Only the job on main has it.
        let plan = try #require(Self.value(Self.value(try Self.yaml("docs/ci/github-actions.yml"), "jobs"), "plan"))
        #expect(!Self.scalars(plan).contains { $0.contains(name) || $0.contains("VAULT") })
    }

    @Test("docs/ci.md shows both files as they are and names the reports as fleetup writes them")
    func page() throws {
        let page = try Self.text("docs/ci.md")
        for file in ["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"] {
            let text = try Self.text(file)
            #expect(page.contains("```yaml\n" + text + "```\n"), "docs/ci.md does not show \(file) as it is")
        }
        for format in RunReportFormat.allCases { #expect(page.contains(format.fileName), "\(format.fileName)") }
    }
}
