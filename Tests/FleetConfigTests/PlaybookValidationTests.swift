import FleetConfig
import FleetCore
import Foundation
import Testing

/// Every bad playbook in Fixtures/playbooks/invalid/ with the exact messages `check`
/// prints for it (`file:line: where: problem`), every problem at once.
@Suite("playbook validation")
struct PlaybookValidationTests {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/playbooks/invalid")

    static let cases: [(String, [String])] = [
        // Ansible's any_errors_fatal, at the top or in rolling:, points to fleetup's words.
        (
            "any-errors-fatal.yml",
            [
                "any-errors-fatal.yml:7: unknown key \"any_errors_fatal\" (fleetup says it as rolling: max_fail_percentage: 0 (any failed host halts the run))",
                "any-errors-fatal.yml:9: rolling: unknown key \"any_errors_fatal\" (fleetup says it as max_fail_percentage: 0 (any failed host halts the run))",
            ]
        ),
        // percentages are whole, as Ansible's int() wants them.
        (
            "bad-batch-percent.yml",
            ["bad-batch-percent.yml:9: rolling.batch: \"12.5%\" is not a batch percentage (expected a whole percentage from 1% to 100%)"]
        ),
        (
            "bad-batch-word.yml",
            [
                "bad-batch-word.yml:9: rolling.batch: \"all\" is not a batch size (expected a number of hosts, 0 for all at once, or a percentage such as \"25%\")"
            ]
        ),
        ("bad-gate.yml", ["bad-gate.yml:9: rolling.gate: \"soak\" is not a gate (expected none, manual or soak DURATION, e.g. soak 10m)"]),
        ("bad-max-fail.yml", ["bad-max-fail.yml:9: rolling.max_fail_percentage: expected a whole percentage from 0 to 100, got \"120\""]),
        // quoted as written, its % sign included
        (
            "bad-max-fail-percent.yml",
            ["bad-max-fail-percent.yml:8: rolling.max_fail_percentage: expected a whole percentage from 0 to 100, got \"29.9%\""]
        ),
        (
            "bad-order.yml",
            ["bad-order.yml:9: rolling.order: \"random\" is not an order (expected inventory, reverse, sorted, reverse_sorted or shuffle)"]
        ),
        // hooks: a point that is not one, a hook without its command, a timeout of zero,
        // env names that are fleetup's own or no name at all, an unknown key.
        (
            "bad-hooks.yml",
            [
                "bad-hooks.yml:9: hooks: unknown point \"before_stag\" (did you mean \"before_stage\"?)",
                "bad-hooks.yml:11: hooks: before_run[1]: missing run: (expected the local command, e.g. run: ./hooks/announce.sh)",
                "bad-hooks.yml:14: hooks: before_run[2]: timeout: expected a time above zero (a hook that may never end stalls the run)",
                "bad-hooks.yml:17: hooks: before_run[3]: env: FLEETUP_STAGE: FLEETUP_ variables are fleetup's own (the run's id, stage, …)",
                "bad-hooks.yml:18: hooks: before_run[3]: env: \"bad name\" is not an environment variable name (letters, digits and _)",
                "bad-hooks.yml:19: hooks: before_run[3]: unknown key \"command\" (write run:)",
            ]
        ),
        // notify: a webhook without its url, a format and an event that are not, a URL that
        // is not http(s), a deadline of zero, an unknown key.
        (
            "bad-notify.yml",
            [
                "bad-notify.yml:9: notify[1]: missing url: (expected the webhook, e.g. url: \"{{ mattermost_webhook }}\")",
                "bad-notify.yml:10: notify[2]: url: expected an http:// or https:// URL",
                "bad-notify.yml:12: notify[3]: format: \"teams\" is not a format (expected mattermost, slack or json)",
                "bad-notify.yml:13: notify[3]: on: \"on_failure\" is not an event (expected before_run, before_stage, after_batch, on_gate, on_halt or after_run)",
                "bad-notify.yml:14: notify[3]: deadline: expected a time above zero",
                "bad-notify.yml:15: notify[3]: unknown key \"events\" (write on:)",
            ]
        ),
        ("bad-path.yml", ["bad-path.yml:8: path: \"jump\" is not a path mode (expected sequential or cumulative)"]),
        ("bad-pause.yml", ["bad-pause.yml:9: rolling.pause: expected a duration such as 30s, 10m, 1h30m or 500ms, got \"5 minutes\""]),
        // rolling.spread: a variable name or group PREFIX*, at least 1 per batch, both given.
        (
            "bad-spread.yml",
            [
                "bad-spread.yml:9: rolling.spread.by: \"cluster name\" is neither a variable name nor group PREFIX* (e.g. by: cluster, or by: group zone_*)",
                "bad-spread.yml:9: rolling.spread.max_per_batch: expected a whole number of at least 1, got \"0\"",
            ]
        ),
        (
            "bad-spread-group.yml",
            [
                "bad-spread-group.yml:10: rolling.spread.by: \"group zone\": expected group PREFIX* (a group name's start, then *, e.g. group zone_*)",
                "bad-spread-group.yml:10: rolling.spread: missing max_per_batch: (how many hosts of one key a batch may hold)",
            ]
        ),
        (
            "bad-spread-keys.yml",
            [
                "bad-spread-keys.yml:10: rolling.spread: unknown key \"max_down\" (fleetup limits hosts per batch only, with max_per_batch)",
                "bad-spread-keys.yml:10: rolling.spread: missing by: (a host variable, or group PREFIX*)",
                "bad-spread-keys.yml:10: rolling.spread: missing max_per_batch: (how many hosts of one key a batch may hold)",
            ]
        ),
        // the YAML parser's own words, with its line.
        ("bad-yaml.yml", ["bad-yaml.yml:2: invalid YAML: while parsing a flow sequence: did not find expected ',' or ']'"]),
        // Ansible would make 0% one host; a 0% batch is surely a mistake.
        (
            "batch-zero-percent.yml",
            ["batch-zero-percent.yml:9: rolling.batch: \"0%\" is not a batch percentage (expected a whole percentage from 1% to 100%)"]
        ),
        // from is known only after the version is read.
        (
            "detect-uses-from.yml",
            ["detect-uses-from.yml:3: version.detect: cannot use \"from\" (it is known only once the version has been read)"]
        ),
        // Yams refuses a key written twice (Ansible keeps the last).
        ("duplicate-key.yml", ["duplicate-key.yml:1: duplicate key \"hosts\" in one mapping (write each key once)"]),
        // an empty file is no playbook.
        ("empty.yml", ["empty.yml: the playbook is empty (expected a mapping with hosts, version, releases and steps)"]),
        ("flag-not-boolean.yml", ["flag-not-boolean.yml:8: release 1.1.0: reindex: expected true or false, got \"maybe\""]),
        // a flag no step tests is a typo somewhere.
        (
            "flag-not-used.yml",
            [
                "flag-not-used.yml:4: flags: \"restart_streaming\" is tested by no step's when: (a release flag is for steps that run only when a release asks)"
            ]
        ),
        (
            "health-bad-threshold.yml",
            ["health-bad-threshold.yml:10: health[1]: failure_threshold: expected a whole number from 1 to 1000, got \"0\""]
        ),
        ("health-expect-on-tcp.yml", ["health-expect-on-tcp.yml:10: health[1]: expect: applies to http probes only"]),
        // probes go through the SSH tunnel: plain http.
        (
            "health-https.yml",
            [
                "health-https.yml:9: health[1]: http: \"https://127.0.0.1/\" is not an http URL (expected http://HOST:PORT/PATH; the probe goes through the SSH connection, so no TLS)"
            ]
        ),
        ("health-two-kinds.yml", ["health-two-kinds.yml:9: health[1]: has http and tcp (expected one kind per probe)"]),
        // probes run after every hop.
        ("health-uses-to.yml", ["health-uses-to.yml:9: health[1]: cannot use \"to\" (probes run after every hop; use host or target)"]),
        // every problem at once, in file order.
        (
            "many-problems.yml",
            [
                "many-problems.yml:4: version.target: v9 is not one of the releases (1.0.0)",
                "many-problems.yml:7: rolling.batch: \"-1\" is not a batch size (expected a number of hosts, 0 for all at once, or a percentage such as \"25%\")",
                "many-problems.yml:8: rolling.pause: expected a duration such as 30s, 10m, 1h30m or 500ms, got \"later\"",
                "many-problems.yml:11: step \"stop\": run: unclosed \"{{\" (expected \"}}\" after it)",
                "many-problems.yml:12: step \"stop\": retries: expected a whole number from 0 to 100, got \"lots\"",
            ]
        ),
        ("missing-detect.yml", ["missing-detect.yml:3: version: missing detect: (expected the command that prints the installed version)"]),
        // what a playbook cannot do without.
        (
            "missing-sections.yml",
            [
                "missing-sections.yml: missing hosts: (expected the inventory pattern of the hosts to upgrade, e.g. hosts: mattermost)",
                "missing-sections.yml: missing releases: (expected the releases, oldest first, e.g. releases: [\"5.0.0\", \"5.1.0\"])",
                "missing-sections.yml: missing version: (expected version: with detect: (the command that prints the version))",
                "missing-sections.yml: missing steps: (expected the steps of one upgrade, e.g. steps: [{name: stop, run: systemctl stop app}])",
            ]
        ),
        ("not-a-mapping.yml", ["not-a-mapping.yml:1: playbook: expected a mapping, got a list"]),
        (
            "release-not-a-version.yml",
            [
                "release-not-a-version.yml:4: releases: \"1.x\" is not a version (expected x.y.z, optionally with a leading v or a -pre-release)"
            ]
        ),
        (
            "release-steps-missing.yml",
            [
                "release-steps-missing.yml:9: steps: release 1.1.0 has steps of its own, but steps: has no release_steps entry saying where they run"
            ]
        ),
        (
            "release-steps-twice.yml",
            ["release-steps-twice.yml:9: steps: release_steps is listed twice (the releases' steps run in one place)"]
        ),
        // a typo in a flag would silently never restart streaming.
        (
            "release-unknown-flag.yml",
            ["release-unknown-flag.yml:8: release 1.1.0: unknown key \"restart_stremaing\" (did you mean \"restart_streaming\"?)"]
        ),
        // 5.10 after 5.9: versions compare as numbers.
        ("releases-out-of-order.yml", ["releases-out-of-order.yml:4: releases: 1.9.0 is listed after 1.10.0 (list releases oldest first)"]),
        // 1.1 is 1.1.0.
        ("releases-same.yml", ["releases-same.yml:4: releases: 1.1.0 and 1.1 are the same release"]),
        (
            "rollback-no-return.yml",
            [
                "rollback-no-return.yml:9: rollback: step \"back\": no_return has no meaning in rollback (it marks the upgrade's point of no return)"
            ]
        ),
        // Ansible's name, pointed to fleetup's.
        ("rolling-serial.yml", ["rolling-serial.yml:9: rolling: unknown key \"serial\" (fleetup calls Ansible's serial batch:)"]),
        // an Ansible habit, pointed to where it goes.
        ("serial-at-top.yml", ["serial-at-top.yml:8: unknown key \"serial\" (batch sizes go in rolling: batch:)"]),
        ("stages-twice.yml", ["stages-twice.yml:8: stages: \"staging\" is listed twice"]),
        ("step-bad-become.yml", ["step-bad-become.yml:10: step \"start\": become: expected true or false, got \"sudo\""]),
        // become_user implies become: beside become: false it is a contradiction.
        (
            "step-become-user-off.yml",
            [
                "step-become-user-off.yml:9: step \"migrate\": become_user with become: false (drop one: become_user implies become)",
                "step-become-user-off.yml:12: step \"start\": become_user: expected text, got a list",
            ]
        ),
        (
            "step-bad-timeout.yml",
            ["step-bad-timeout.yml:10: step \"start\": timeout: expected a duration such as 30s, 10m, 1h30m or 500ms, got \"soon\""]
        ),
        (
            "step-bad-when.yml",
            [
                "step-bad-when.yml:10: step \"start\": when: \"a and b\" is not a condition (expected NAME, not NAME, NAME == \"text\" or NAME != \"text\"; a list means all of them)"
            ]
        ),
        ("step-run-and-upload.yml", ["step-run-and-upload.yml:8: step \"both\": has both run and upload (expected one of them)"]),
        // only release steps may be plain commands: a typo of release_steps must not become one.
        (
            "step-scalar.yml",
            [
                "step-scalar.yml:8: step 2: \"systemctl start app\" is not a step (expected a mapping with name and run or upload, or release_steps)"
            ]
        ),
        // Ansible's module names are pointed to run:.
        (
            "step-unknown-key.yml",
            [
                "step-unknown-key.yml:8: step \"start\": expected run: (a command) or upload: (a file to copy)",
                "step-unknown-key.yml:9: step \"start\": unknown key \"shell\" (fleetup's command is run:)",
            ]
        ),
        ("step-without-action.yml", ["step-without-action.yml:8: step \"start\": expected run: (a command) or upload: (a file to copy)"]),
        ("target-not-a-release.yml", ["target-not-a-release.yml:4: version.target: 2.0.0 is not one of the releases (1.0.0, 1.1.0)"]),
        ("unclosed-template.yml", ["unclosed-template.yml:9: step \"start\": run: unclosed \"{{\" (expected \"}}\" after it)"]),
        (
            "unknown-filter.yml",
            ["unknown-filter.yml:9: step \"start\": run: unknown filter \"upper\" in \"{{ service | upper }}\" (expected raw)"]
        ),
        ("unknown-key.yml", ["unknown-key.yml:8: unknown key \"stage\" (did you mean \"stages\"?)"]),
        // 644 would be decimal: Ansible's known trap.
        (
            "upload-decimal-mode.yml",
            [
                "upload-decimal-mode.yml:9: step \"up\": upload.mode: expected a file mode in octal with a leading 0, such as 0644, got \"644\""
            ]
        ),
        (
            "upload-missing-dest.yml",
            ["upload-missing-dest.yml:9: step \"up\": upload: expected src: (a local file) and dest: (the path on the host)"]
        ),
        ("var-bad-template.yml", ["var-bad-template.yml:9: vars: url: unclosed \"{{\" (expected \"}}\" after it)"]),
        // facts are fleetup's.
        (
            "var-is-a-fact.yml",
            ["var-is-a-fact.yml:9: vars: \"from\" is a run fact (host, target, from, to, release): fleetup sets it, a playbook cannot"]
        ),
    ]

    @Test("each bad playbook, its exact messages", arguments: cases)
    func invalid(file: String, messages: [String]) throws {
        let path = Self.folder.appendingPathComponent(file).path
        do {
            _ = try PlaybookLoader.load(path)
            Issue.record("\(file) loaded, but it is invalid")
        } catch let e as ConfigErrors {
            #expect(e.errors.map { $0.description.replacingOccurrences(of: path, with: file) } == messages)
        }
    }

    @Test("every fixture is in the table")
    func complete() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".yml") }.sorted()
        #expect(files == Self.cases.map(\.0).sorted())
    }

    @Test("a missing playbook file says so")
    func missingFile() {
        #expect { try PlaybookLoader.load("/nonexistent/upgrade.yml") } throws: {
            ($0 as? ConfigError)?.description == "/nonexistent/upgrade.yml: no such playbook file"
        }
    }
}
