import FleetCore
import Testing

@testable import FleetRollout

@Suite("upgrade paths (design.md §5.5)")
struct UpgradePathTests {
    static let releases = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"]

    static func releases(waypoints: Set<String>) -> [Release] {
        releases.map { Release(Version($0)!, waypoint: waypoints.contains($0)) }
    }

    @Test(
        "legs",
        arguments: [
            // sequential: every release in between, one hop each.
            ("1.0.0", "1.3.0", PathMode.sequential, Set<String>(), ["1.0.0>1.1.0:1.1.0", "1.1.0>1.2.0:1.2.0", "1.2.0>1.3.0:1.3.0"]),
            // cumulative: one hop, carrying every release after the current one.
            ("1.0.0", "1.3.0", .cumulative, [], ["1.0.0>1.3.0:1.1.0,1.2.0,1.3.0"]),
            // a waypoint in between must be visited: two hops.
            ("1.0.0", "1.4.0", .cumulative, ["1.2.0"], ["1.0.0>1.2.0:1.1.0,1.2.0", "1.2.0>1.4.0:1.3.0,1.4.0"]),
            // the host's own release being a waypoint changes nothing.
            ("1.2.0", "1.4.0", .cumulative, ["1.2.0"], ["1.2.0>1.4.0:1.3.0,1.4.0"]),
            // the target being a waypoint changes nothing.
            ("1.0.0", "1.2.0", .cumulative, ["1.2.0"], ["1.0.0>1.2.0:1.1.0,1.2.0"]),
            // two waypoints in a row.
            ("1.0.0", "1.4.0", .cumulative, ["1.1.0", "1.2.0"], ["1.0.0>1.1.0:1.1.0", "1.1.0>1.2.0:1.2.0", "1.2.0>1.4.0:1.3.0,1.4.0"]),
            // waypoints mean nothing to sequential paths, which visit everything anyway.
            ("1.2.0", "1.4.0", .sequential, ["1.3.0"], ["1.2.0>1.3.0:1.3.0", "1.3.0>1.4.0:1.4.0"]),
            // already there: no hop.
            ("1.3.0", "1.3.0", .sequential, [], []),
            // "v1.3" is the release 1.3.0.
            ("v1.3", "1.3.0", .cumulative, [], []),
        ] as [(String, String, PathMode, Set<String>, [String])])
    func legs(from: String, to: String, mode: PathMode, waypoints: Set<String>, expected: [String]) throws {
        let legs = try UpgradePathPlanner.legs(
            from: Version(from)!, to: Version(to)!, releases: Self.releases(waypoints: waypoints), mode: mode)
        #expect(legs.map { "\($0.from.version)>\($0.to.version):\($0.releases.map(\.version.text).joined(separator: ","))" } == expected)
    }

    @Test(
        "an error for the host, never a guess",
        arguments: [
            ("1.5.0", "1.3.0", PathError.Kind.aheadOfTarget, "version 1.5.0 is ahead of the target 1.3.0; fleetup does not downgrade"),
            ("1.4.0", "1.3.0", .aheadOfTarget, "version 1.4.0 is ahead of the target 1.3.0; fleetup does not downgrade"),
            (
                "1.0.3", "1.3.0", .unknownVersion,
                "version 1.0.3 is not one of the releases (1.0.0, 1.1.0, 1.2.0, 1.3.0, 1.4.0); add it to releases: if it is a release to upgrade from"
            ),
            (
                "0.9.0", "1.3.0", .unknownVersion,
                "version 0.9.0 is not one of the releases (1.0.0, 1.1.0, 1.2.0, 1.3.0, 1.4.0); add it to releases: if it is a release to upgrade from"
            ),
            ("1.0.0", "2.0.0", .unknownTarget, "target 2.0.0 is not one of the releases (1.0.0, 1.1.0, 1.2.0, 1.3.0, 1.4.0)"),
        ])
    func errors(from: String, to: String, kind: PathError.Kind, message: String) {
        #expect {
            try UpgradePathPlanner.legs(from: Version(from)!, to: Version(to)!, releases: Self.releases(waypoints: []), mode: .sequential)
        } throws: { error in
            (error as? PathError)?.kind == kind && (error as? PathError)?.message == message
        }
    }

    @Test("Mattermost 5.0 -> 5.3: three hops, each one all the steps with its own from and to")
    func mattermost() throws {
        let book = Playbooks.mattermost
        let hops = try UpgradePathPlanner.path(from: Version("5.0.0")!, to: Version("5.3.0")!, playbook: book, scope: Playbooks.scope(book))
        #expect(hops.map { "\($0.from)->\($0.to)" } == ["5.0.0->5.1.0", "5.1.0->5.2.0", "5.2.0->5.3.0"])
        #expect(
            hops[1].steps.map(\.action.display) == [
                "systemctl stop mattermost",
                "cp /opt/mattermost/config/config.json /var/backups/mm/config-5.1.0.json",
                "upload playbooks/releases/mattermost-5.2.0.tar.gz -> /tmp/mm-5.2.0.tar.gz (mode 0644)",
                "tar -xzf /tmp/mm-5.2.0.tar.gz -C /opt/mattermost --strip-components=1",
                "systemctl start mattermost",
            ])
        #expect(hops[1].pointOfNoReturn == 4)
        #expect(hops[1].rollback.map(\.action.display) == ["cp /var/backups/mm/config-5.1.0.json /opt/mattermost/config/config.json"])
        #expect(hops.allSatisfy { $0.steps[0].become && !$0.steps[1].become })
        // The upload's source is found beside the playbook, as Ansible finds files.
        guard case .upload(let u) = hops[0].steps[2].action else { Issue.record("expected an upload"); return }
        #expect(u.source == "playbooks/releases/mattermost-5.1.0.tar.gz")
    }

    @Test("Flow v3.0.0 -> v3.1.2: one hop, every release's instructions once each, in order, streaming restarted")
    func flowCumulative() throws {
        let book = Playbooks.flow
        let hops = try UpgradePathPlanner.path(
            from: Version("v3.0.0")!, to: Version("v3.1.2")!, playbook: book, scope: Playbooks.scope(book))
        #expect(hops.count == 1)
        let hop = hops[0]
        #expect(hop.releases == ["v3.0.1", "v3.0.2", "v3.1.0", "v3.1.1", "v3.1.2"])
        #expect(hop.flags == ["restart_streaming"])
        // migrate (asked by v3.0.1, v3.1.0 and v3.1.2) runs once, after bundle install,
        // since v3.1.0 orders them so; precompile (v3.1.0 and v3.1.1) once.
        #expect(
            hop.steps.map(\.name) == [
                "fetch", "checkout", "bundle", "yarn", "migrate", "precompile", "cache",
                "restart sidekiq", "reload web", "restart streaming",
            ])
        #expect(hop.steps.map(\.release) == [nil, nil, "v3.1.0", "v3.1.0", "v3.0.1", "v3.1.0", "v3.1.2", nil, nil, nil])
        #expect(hop.steps[1].action.display == "cd /home/flow/live && git checkout v3.1.2")
        #expect(hop.steps[4].action.display == "cd /home/flow/live && RAILS_ENV=production bundle exec rails db:migrate")
        #expect(hop.pointOfNoReturn == 4)
        #expect(hop.skipped.isEmpty)
        #expect(hop.rollback.map(\.action.display) == ["cd /home/flow/live && git checkout v3.0.0"])
    }

    @Test(
        "Flow: streaming restarts only when a release in the path says so",
        arguments: [
            ("v3.0.0", true), ("v3.0.2", true), ("v3.1.0", false), ("v3.1.1", false),
        ])
    func streaming(from: String, restarts: Bool) throws {
        let book = Playbooks.flow
        let hop = try #require(
            try UpgradePathPlanner.path(
                from: Version(from)!, to: Version("v3.1.2")!, playbook: book,
                scope: Playbooks.scope(book)
            ).first)
        #expect(hop.steps.contains { $0.name == "restart streaming" } == restarts)
        #expect(hop.skipped.map(\.reason) == (restarts ? [] : ["restart_streaming is false"]))
    }

    @Test("Flow v3.1.0 -> v3.1.2: only the later releases' instructions")
    func flowShort() throws {
        let book = Playbooks.flow
        let hop = try #require(
            try UpgradePathPlanner.path(
                from: Version("v3.1.0")!, to: Version("v3.1.2")!, playbook: book,
                scope: Playbooks.scope(book)
            ).first)
        #expect(hop.steps.map(\.name) == ["fetch", "checkout", "precompile", "migrate", "cache", "restart sidekiq", "reload web"])
    }

    @Test("a waypoint splits a cumulative path, and each hop runs its own releases' instructions")
    func waypoint() throws {
        var book = Playbooks.flow
        book.releases[3].waypoint = true  // v3.1.0
        let hops = try UpgradePathPlanner.path(
            from: Version("v3.0.0")!, to: Version("v3.1.2")!, playbook: book, scope: Playbooks.scope(book))
        #expect(hops.map { "\($0.from)->\($0.to)" } == ["v3.0.0->v3.1.0", "v3.1.0->v3.1.2"])
        #expect(
            hops[0].steps.map(\.name) == [
                "fetch", "checkout", "bundle", "yarn", "migrate", "precompile", "restart sidekiq", "reload web", "restart streaming",
            ])
        #expect(hops[1].steps.map(\.name) == ["fetch", "checkout", "precompile", "migrate", "cache", "restart sidekiq", "reload web"])
    }

    @Test("releases ordering the same steps differently: an error naming both")
    func conflict() {
        var book = Playbooks.flow
        let a = Playbooks.run("a", "echo a"), b = Playbooks.run("b", "echo b")
        book.releases[1].steps = [a, b]
        book.releases[2].steps = [b, a]
        #expect {
            try UpgradePathPlanner.path(from: Version("v3.0.0")!, to: Version("v3.0.2")!, playbook: book, scope: Playbooks.scope(book))
        } throws: { error in
            (error as? PathError)?.message
                == "releases v3.0.1 and v3.0.2 order the steps \"a\" and \"b\" differently; a cumulative path runs each once, so one order must hold for both (write them in the same order)"
        }
        // A path that holds only one of them is fine.
        #expect(
            (try? UpgradePathPlanner.path(from: Version("v3.0.1")!, to: Version("v3.0.2")!, playbook: book, scope: Playbooks.scope(book)))?
                .count == 1)
    }

    @Test("the same instruction rendered differently per release runs once per release")
    func renderedIdentity() throws {
        var book = Playbooks.flow
        let note = Playbooks.run("note", "echo {{ release }}")
        book.releases[1].steps = [note]
        book.releases[2].steps = [note]
        let hop = try #require(
            try UpgradePathPlanner.path(
                from: Version("v3.0.0")!, to: Version("v3.0.2")!, playbook: book,
                scope: Playbooks.scope(book)
            ).first)
        #expect(
            hop.steps.filter { $0.name == "note" }.map(\.action.display) == [
                "cd /home/flow/live && echo v3.0.1", "cd /home/flow/live && echo v3.0.2",
            ])
    }

    @Test(
        "merge: every release's order kept, else first appearance",
        arguments: [
            // (releases' steps, merged)
            ([["m"], ["b", "y", "m", "p"], ["p"], ["m", "c"]], ["b", "y", "m", "p", "c"]),  // the Flow example
            ([["b", "m"], ["b"]], ["b", "m"]),  // keeping the last "b" would put it after m
            ([["a"], ["b"], ["a"]], ["a", "b"]),  // no constraint between a and b: first appearance
            ([["x", "x", "y"]], ["x", "y"]),  // written twice in one release: once
            ([["a", "c"], ["b", "c"], ["a", "b"]], ["a", "b", "c"]),
        ])
    func merge(lists: [[String]], expected: [String]) throws {
        let input = lists.enumerated().map { i, names in
            (release: "r\(i)", steps: names.map { PlannedStep(name: $0, action: .run(RemoteCommand("run \($0)"))) })
        }
        #expect(try StepMerge.merge(input).map(\.name) == expected)
    }

    @Test(
        "become: the step's, unless the inventory's ansible_become says otherwise",
        arguments: [
            (nil as VarValue?, [true, false]),
            (.bool(false), [false, false]),  // a fleet without sudo turns it off
            (.string("True"), [true, true]),  // Ansible: ansible_become on a host makes every step become
        ])
    func become(hostVar: VarValue?, expected: [Bool]) throws {
        let book = Playbooks.mattermost
        let hops = try UpgradePathPlanner.path(
            from: Version("5.2.0")!, to: Version("5.3.0")!, playbook: book,
            scope: Playbooks.scope(book, vars: hostVar.map { ["ansible_become": $0] } ?? [:]))
        #expect([hops[0].steps[0].become, hops[0].steps[1].become] == expected)
        #expect(hops[0].steps[2].become == false)  // uploads go over SFTP as the SSH user
    }

    @Test("become_user: rendered per host, kept only while the step becomes; an unknown variable is an error at its line")
    func becomeUser() throws {
        var book = Playbooks.mattermost
        var step = Playbooks.run("migrate", "app migrate", become: true)
        step.becomeUser = Playbooks.t("{{ app_user }}")
        step.line = 21
        book.steps.insert(.step(step), at: 1)
        func planned(_ vars: [String: VarValue]) throws -> PlannedStep {
            let hop = try UpgradePathPlanner.path(
                from: Version("5.2.0")!, to: Version("5.3.0")!, playbook: book, scope: Playbooks.scope(book, vars: vars))[0]
            return try #require(hop.steps.first { $0.name == "migrate" })
        }
        let asApp = try planned(["app_user": .string("mattermost")])
        #expect(asApp.become && asApp.becomeUser == "mattermost")
        // A fleet without sudo: no become, so no user either.
        let off = try planned(["app_user": .string("mattermost"), "ansible_become": .bool(false)])
        #expect(!off.become && off.becomeUser == nil)
        #expect {
            try planned([:])
        } throws: { error in
            (error as? PathError)?.line == 21 && (error as? PathError)?.message.hasPrefix("step \"migrate\": become_user: ") == true
        }
    }

    @Test("when: a variable compared, a variable that is not a boolean is an error")
    func when() throws {
        var book = Playbooks.mattermost
        book.steps.insert(.step(Playbooks.run("dump", "pg_dump", when: "db_engine == \"postgres\"")), at: 1)
        book.steps.insert(.step(Playbooks.run("copy", "cp db", when: "db_engine != 'postgres'")), at: 2)
        let pg = try UpgradePathPlanner.path(
            from: Version("5.2.0")!, to: Version("5.3.0")!, playbook: book,
            scope: Playbooks.scope(book, vars: ["db_engine": .string("postgres")]))[0]
        #expect(pg.steps.map(\.name).contains("dump") && !pg.steps.map(\.name).contains("copy"))
        #expect(pg.skipped.map(\.reason) == ["db_engine is \"postgres\""])
        book.steps.insert(.step(Playbooks.run("odd", "true", when: "db_engine", line: 12)), at: 1)
        #expect {
            try UpgradePathPlanner.path(
                from: Version("5.2.0")!, to: Version("5.3.0")!, playbook: book,
                scope: Playbooks.scope(book, vars: ["db_engine": .string("file")]))
        } throws: { error in
            (error as? PathError)?.message == "when: \"db_engine\" is \"file\", not a boolean (compare it: db_engine == \"file\")"
                && (error as? PathError)?.line == 12
        }
    }

    @Test("a secret stays out of every display; the script has it")
    func secrets() throws {
        var book = Playbooks.mattermost
        book.secret = ["db_password"]
        book.steps.insert(.step(Playbooks.run("dump", "PGPASSWORD={{ db_password }} pg_dump -f {{ backup_dir }}/{{ from }}.dump")), at: 1)
        let hop = try UpgradePathPlanner.path(
            from: Version("5.2.0")!, to: Version("5.3.0")!, playbook: book,
            scope: Playbooks.scope(book, vars: ["db_password": .string("s3cr3t pass")]))[0]
        guard case .run(let c) = hop.steps[1].action else { Issue.record("expected a command"); return }
        #expect(c.display == "PGPASSWORD=[REDACTED] pg_dump -f /var/backups/mm/5.2.0.dump")
        #expect(c.script == "PGPASSWORD='s3cr3t pass' pg_dump -f /var/backups/mm/5.2.0.dump")
    }
}
