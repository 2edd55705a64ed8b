import FleetCore

/// Small playbooks built in code for the planner tests (the showcase files themselves are
/// loaded by FleetConfigTests and planned end to end by the integration tests).
enum Playbooks {
    static func t(_ s: String) -> Template { try! Template(parsing: s) }

    static func run(
        _ name: String, _ command: String, when: String? = nil, become: Bool? = nil,
        noReturn: Bool = false, line: Int? = nil
    ) -> Step {
        Step(
            name: name, action: .run(t(command)), when: when.map { [StepCondition($0)!] } ?? [], become: become,
            noReturn: noReturn, line: line)
    }

    static func release(_ v: String, _ steps: [Step] = [], flags: [String: Bool] = [:], waypoint: Bool = false) -> Release {
        Release(Version(v)!, steps: steps, flags: flags, waypoint: waypoint)
    }

    /// Mattermost-like: sequential, a full hop per release.
    static var mattermost: Playbook {
        Playbook(
            name: "mattermost", file: "playbooks/mattermost.yml", hosts: "mattermost", stages: ["staging", "prod"],
            vars: [
                "install_dir": .string("/opt/mattermost"), "backup_dir": .string("/var/backups/mm"),
                "service": .string("mattermost"),
            ],
            version: VersionSpec(detect: t("{{ install_dir }}/bin/mattermost version"), target: Version("5.3.0")),
            releases: ["5.0.0", "5.1.0", "5.2.0", "5.3.0"].map { release($0) },
            path: .sequential,
            steps: [
                .step(run("stop", "systemctl stop {{ service }}", become: true)),
                .step(run("back up config.json", "cp {{ install_dir }}/config/config.json {{ backup_dir }}/config-{{ from }}.json")),
                .step(
                    Step(
                        name: "upload",
                        action: .upload(
                            source: t("releases/mattermost-{{ to }}.tar.gz"),
                            destination: t("/tmp/mm-{{ to }}.tar.gz"), mode: 0o644))),
                .step(run("unpack", "tar -xzf /tmp/mm-{{ to }}.tar.gz -C {{ install_dir }} --strip-components=1")),
                .step(run("start", "systemctl start {{ service }}", become: true, noReturn: true)),
            ],
            health: [
                HealthProbe(
                    kind: .http(url: t("http://127.0.0.1:{{ app_port }}/api/v4/system/ping")),
                    expectStatus: [200], bodyContains: t("\"status\":\"OK\""))
            ],
            rollback: [run("restore config", "cp {{ backup_dir }}/config-{{ from }}.json {{ install_dir }}/config/config.json")])
    }

    /// Flow-like: cumulative, the releases' own instructions, a streaming flag.
    static var flow: Playbook {
        let migrate = run("migrate", "RAILS_ENV={{ rails_env }} bundle exec rails db:migrate", noReturn: true)
        let precompile = run("precompile", "RAILS_ENV={{ rails_env }} bundle exec rails assets:precompile")
        return Playbook(
            name: "flow", file: "playbooks/flow.yml", hosts: "flow", stages: ["staging", "prod"],
            vars: ["rails_env": .string("production"), "install_dir": .string("/home/flow/live")],
            version: VersionSpec(detect: t("git -C {{ install_dir }} describe --tags"), target: Version("v3.1.2")),
            releases: [
                release("v3.0.0"),
                release("v3.0.1", [migrate]),
                release("v3.0.2"),
                release(
                    "v3.1.0",
                    [
                        run("bundle", "bundle install"), run("yarn", "yarn install --frozen-lockfile"),
                        migrate, precompile,
                    ], flags: ["restart_streaming": true]),
                release("v3.1.1", [precompile]),
                release("v3.1.2", [migrate, run("cache", "bin/flowctl cache clear")]),
            ],
            flags: ["restart_streaming"], path: .cumulative,
            steps: [
                .step(run("fetch", "git fetch --tags")),
                .step(run("checkout", "git checkout {{ to }}")),
                .releaseSteps(line: nil),
                .step(run("restart sidekiq", "systemctl restart flow-sidekiq", become: true)),
                .step(run("reload web", "systemctl reload flow-web", become: true)),
                .step(run("restart streaming", "systemctl restart flow-streaming", when: "restart_streaming", become: true)),
            ],
            rollback: [run("checkout back", "git checkout {{ from }}")],
            chdir: t("{{ install_dir }}"))
    }

    static func scope(_ playbook: Playbook, host: String = "web1", vars: [String: VarValue] = [:], target: String? = nil) -> TemplateScope {
        TemplateScope.host(
            Host(name: host, vars: vars), defaults: playbook.vars, secret: playbook.secret,
            facts: ["target": target ?? playbook.version.target!.text])
    }
}
