/// What the Flow demo fleet's origin repository holds at each release tag, and what a
/// Flow host holds besides its checkout: the files playbooks/flow.yml's steps use.
extension FleetLayout {
    /// One release of the fake Flow: its tag and the instructions of its release notes,
    /// exactly as playbooks/flow.yml's `releases:` say (with `rails_env` production; a test
    /// compares the two).
    struct FlowRelease: Sendable, Hashable {
        var tag: String
        var instructions: [String]
        var restartStreaming = false
    }

    static let flowReleases: [FlowRelease] = {
        let migrate = "RAILS_ENV=production bundle exec rails db:migrate"
        let precompile = "RAILS_ENV=production bundle exec rails assets:precompile"
        return [
            FlowRelease(tag: "v3.0.0", instructions: []),
            FlowRelease(tag: "v3.0.1", instructions: [migrate]),
            FlowRelease(tag: "v3.0.2", instructions: []),
            FlowRelease(
                tag: "v3.1.0", instructions: ["bundle install", "yarn install --frozen-lockfile", migrate, precompile],
                restartStreaming: true),
            FlowRelease(tag: "v3.1.1", instructions: [precompile]),
            FlowRelease(tag: "v3.1.2", instructions: [migrate, "RAILS_ENV=production bin/flowctl cache clear"]),
        ]
    }()

    /// A release's notes: the annotated tag's message.
    static func flowNotes(_ release: FlowRelease) -> String {
        var out = "Flow \(release.tag)\n\n"
        if release.instructions.isEmpty {
            out += "No upgrade instructions: check out the tag, restart sidekiq, reload web.\n"
        } else {
            out += "Upgrade instructions, in this order:\n\n"
            out += release.instructions.map { "    \($0)\n" }.joined()
        }
        if release.restartStreaming { out += "\nThe streaming API changed: restart flow-streaming.\n" }
        return out
    }

    /// RELEASES.md at a release: every release's notes up to it, newest first.
    static func flowReleasesFile(upTo index: Int) -> String {
        "# Flow releases\n" + flowReleases[...index].reversed().map { "\n## " + flowNotes($0).dropFirst(5) }.joined()
    }

    /// The files of the checkout at a release (paths relative to the repository, and modes).
    static func flowTree(upTo index: Int) -> [(path: String, text: String, mode: Int)] {
        [
            ("VERSION", flowReleases[index].tag + "\n", 0o644),
            ("RELEASES.md", flowReleasesFile(upTo: index), 0o644),
            ("Gemfile", "gem \"rails\", \"~> 6.1\"\n", 0o644),
            (
                "package.json",
                "{ \"name\": \"flow\", \"version\": \(json(String(flowReleases[index].tag.dropFirst()))), \"private\": true }\n", 0o644
            ),
            ("yarn.lock", "# yarn lockfile v1\n", 0o644),
            ("bin/flowctl", flowctl, 0o755),
        ]
    }

    /// Flow's admin tool, committed in the repository: on the demo hosts `bundle` is the
    /// fake app's, which logs the command with the checkout's version.
    static let flowctl = """
        #!/bin/sh
        # Flow's admin tool (bin/flowctl cache clear). It runs in the checkout's bundle; on
        # fleetup's demo fleet that bundle is the fake app's, which logs what it was asked.
        cd "$(dirname "$0")/.." && exec bundle exec flowctl "$@"

        """

    /// The ~/.gitconfig of whoever runs the playbook's git commands: git must not refuse a
    /// checkout or the fleet's origin owned by another user (a fleet with extra users; the
    /// `flow` user of a namespaced host fetching root's origin), and says nothing about
    /// detached HEADs.
    static func flowGitConfig(_ host: FleetHost, origin: String) -> String {
        """
        [safe]
        \tdirectory = \(host.installDirOnHost)
        \tdirectory = \(origin)
        [advice]
        \tdetachedHead = false

        """
    }
}
