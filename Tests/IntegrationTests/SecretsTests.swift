import FleetSSH
import FleetTestFleet
import FleetTestSupport
import Foundation
import Testing

/// Secrets never reach output (design.md §4): a real `fleetup run` on the local fleet with
/// one secret from the playbook's `secret:` (given with --var), one marked `!secret` in the
/// inventory and two from an ansible-vault file (one inside a mapping), steps that echo them
/// (from the command and from a file on the host, on stdout and stderr), a failing step, a
/// rollback and a failing probe whose logs print them; then `fleetup status` and `fleetup
/// report` of the same run. No file in the state folder or the output folder, and nothing
/// on stdout or stderr, holds any of the values.
@Suite("secrets stay out of reports, journals and output")
struct SecretsTests {
    static let token = "tok-9f3e1c77-SECRET"
    static let vaultPass = "vault-pw-4b2a-SECRET"
    /// Values of an ansible-vault file (Fixtures/vault/repo/group_vars/prod/vault.yml).
    static let vaultToken = "prod-token-canary-91c2"
    static let vaultNested = "prod-smtp-canary-44b0"

    static let playbook = """
        name: secretive
        hosts: fleet
        vars:
          api_token: ""
          install_dir: /opt/app
        secret: [api_token]
        version:
          detect: cat {{ install_dir }}/VERSION
          target: "1.1.0"
        releases: ["1.0.0", "1.1.0"]
        rolling:
          batch: 3
          max_fail_percentage: 100
          pause: 0s
          gate: none
        steps:
          - name: echo the secrets
            run: echo "token={{ api_token }} pass={{ vault_pass }} vaulted={{ prod_api_token }}"; echo "stderr has {{ api_token }}" >&2
          - name: echo what the host knows
            run: cat {{ install_dir }}/planted
          - name: install
            run: "if [ -e {{ install_dir }}/fail ]; then cat {{ install_dir }}/planted >&2; exit 3; fi; echo {{ to }} > {{ install_dir }}/VERSION"
            become: true
        health:
          - command: test ! -e {{ install_dir }}/sick
            period: 1s
            timeout: 5s
            failure_threshold: 1
            deadline: 5s
            logs: cat {{ install_dir }}/planted; echo "logs have {{ vault_pass }}"
        rollback:
          - name: roll back, saying the token
            run: echo "rolling back with {{ api_token }}"; echo 1.0.0 > {{ install_dir }}/VERSION
            become: true

        """

    @Test("a run, its reports, its journal, status and report: no secret value anywhere")
    func noLeaks() async throws {
        let spec = FleetSpec(groups: [.init("fleet", 3)], versions: ["1.0.0"])
        try await TestFleet.with(spec.onServers) { fleet in
            let dir = fleet.directory
            try Self.playbook.write(toFile: dir + "/secretive.yml", atomically: true, encoding: .utf8)
            // A loopback fleet runs as this user, who owns the app's files: no sudo there.
            let noSudo = fleet.hosts[0].netns == nil ? "    ansible_become: false\n" : ""
            try "all:\n  vars:\n    vault_pass: !secret \(Self.vaultPass)\n\(noSudo)".write(
                toFile: dir + "/secrets.yml", atomically: true, encoding: .utf8)
            // Every host holds both values in a file its steps and its probe's logs print.
            // An ansible-vault file too (id prod): a string and one nested in a mapping.
            let vars = dir + "/group_vars/all"
            try FileManager.default.createDirectory(atPath: vars, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: VaultFixture.repo + "/group_vars/prod/vault.yml", toPath: vars + "/vault.yml")
            for h in fleet.hosts {
                try "host secret \(Self.token) and \(Self.vaultPass)\nvault secrets \(Self.vaultToken) \(Self.vaultNested)\n".write(
                    toFile: h.installDir + "/planted", atomically: true, encoding: .utf8)
            }
            let (ok, failing, sick) = (fleet.hosts[0], fleet.hosts[1], fleet.hosts[2])
            try Data().write(to: URL(fileURLWithPath: failing.installDir + "/fail"))
            try Data().write(to: URL(fileURLWithPath: sick.installDir + "/sick"))
            let state = dir + "/state", out = dir + "/out"
            let common = [
                "-i", fleet.inventoryPath, "-i", dir + "/secrets.yml", "--known-hosts", fleet.knownHosts, "--state-dir", state,
                "--vault-id", "prod@" + VaultFixture.repo + "/prod-pass.txt",
            ]

            let run = try await PlanCommandTests.fleetup(
                ["run", dir + "/secretive.yml"] + common
                    + ["--var", "api_token=\(Self.token)", "--yes", "-v", "--output", out, "--json"])
            // host02 failed its step and host03 its probe (both rolled back): the run failed, within the policy.
            #expect(run.status == 1, "stderr: \(run.stderr)")
            // --json: the run's JSON report on stdout when it ends, as report.json says it.
            let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(report["schema"] as? String == "fleetup.run/2" && report["outcome"] as? String == "failed")
            #expect(try fleet.installedVersion(of: ok) == "1.1.0")
            #expect(try fleet.installedVersion(of: failing) == "1.0.0" && fleet.installedVersion(of: sick) == "1.0.0")

            let status = try await PlanCommandTests.fleetup(
                ["status", dir + "/secretive.yml"] + common
                    + ["--var", "api_token=\(Self.token)", "--json"])
            #expect(status.status == 1, "host03 is still unhealthy: \(status.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            let hosts = try #require(doc["hosts"] as? [[String: Any]])
            let last = hosts.compactMap { ($0["last_run"] as? [String: Any])?["outcome"] as? String }
            #expect(last == ["upgraded", "rolled-back", "rolled-back"], "the run just made is every host's last run")

            var texts: [(String, String)] = [
                ("run stdout", run.stdout), ("run stderr", run.stderr),
                ("status stdout", status.stdout), ("status stderr", status.stderr),
            ]
            for format in ["json", "md", "html", "junit"] {
                let report = try await PlanCommandTests.fleetup(["report", "latest", "--format", format, "--state-dir", state])
                #expect(report.status == 0, "\(report.stderr)")
                texts += [("report \(format)", report.stdout + report.stderr)]
            }
            let files = Self.files(under: state) + Self.files(under: out)
            #expect(files.contains { $0.hasSuffix("/journal.jsonl") } && files.contains { $0.hasSuffix("/report.html") })
            #expect(files.filter { $0.hasPrefix(out) }.count == 4, "\(files)")
            for path in files {
                texts.append((path, String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)))
            }
            for (name, text) in texts {
                for secret in [Self.token, Self.vaultPass, Self.vaultToken, Self.vaultNested] {
                    #expect(!text.contains(secret), "\(name) holds a secret")
                }
            }

            // What was redacted was there: the steps' output, the failed step's stderr, the
            // probe's logs and the rollback's output, each with [REDACTED] where a value was.
            let journal = try #require(texts.first { $0.0.hasSuffix("/journal.jsonl") }?.1)
            #expect(journal.contains("token=[REDACTED] pass=[REDACTED] vaulted=[REDACTED]"))
            #expect(journal.contains("vault secrets [REDACTED] [REDACTED]"))
            #expect(journal.contains("stderr has [REDACTED]"))
            #expect(journal.contains("host secret [REDACTED] and [REDACTED]"))
            #expect(journal.contains("logs have [REDACTED]"))
            #expect(journal.contains("rolling back with [REDACTED]"))
            let md = try #require(texts.first { $0.0 == "report md" }?.1)
            #expect(md.contains("host secret [REDACTED] and [REDACTED]"), "the failed step's stderr is in the report")
        }
    }

    /// Every regular file below `root`.
    static func files(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            let path = root + "/" + rel
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { out.append(path) }
        }
        return out.sorted()
    }
}
