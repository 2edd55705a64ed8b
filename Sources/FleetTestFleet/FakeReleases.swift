import FleetLocal
import FleetSSH
import Foundation

/// The releases the demo fleet upgrades to: Mattermost's tarballs and Flow's git origin.
/// Both are deterministic (the same input gives the same bytes, the same commit ids), and
/// both are the only implementation: `scripts/fake-releases` and `TestFleet` call these.
public enum FakeReleases {
    /// The releases of playbooks/mattermost.yml.
    public static let mattermostVersions = ["5.0.0", "5.1.0", "5.2.0", "5.3.0"]
    /// The release tags of playbooks/flow.yml, oldest first (v3.0.0 … v3.1.2).
    public static var flowTags: [String] { FleetLayout.flowReleases.map(\.tag) }

    /// `mattermost-5.1.0-linux-amd64.tar.gz`, the name playbooks/mattermost.yml uploads.
    public static func mattermostArchiveName(_ version: String) -> String {
        "mattermost-\(version)-linux-amd64.tar.gz"
    }

    /// Writes one archive per version into `directory` (created), shaped like Mattermost's:
    /// a top folder `mattermost/` with `VERSION` (what the fake app reports once restarted)
    /// and a release-default `config/config.json` (which the playbook's "put config.json
    /// back" must replace). No `bin/`: the host's `bin/mattermost` wraps the fake app and
    /// must survive the unpack. Returns the archives' paths.
    @discardableResult
    public static func writeMattermostArchives(
        _ versions: [String] = mattermostVersions,
        in directory: String
    ) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let work = "\(directory)/.work-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? fm.removeItem(atPath: work) }
        var written: [String] = []
        for version in versions {
            try? fm.removeItem(atPath: work)
            try fm.createDirectory(atPath: "\(work)/mattermost/config", withIntermediateDirectories: true)
            try LocalProcess.writeFile("\(work)/mattermost/VERSION", Array((version + "\n").utf8))
            try LocalProcess.writeFile(
                "\(work)/mattermost/config/config.json",
                Array(FleetLayout.mattermostReleaseConfig(version: version).utf8))
            let archive = "\(directory)/\(mattermostArchiveName(version))"
            // Fixed names, order, owners, modes and times, and gzip -n (no name, no time):
            // the same version always gives the same bytes. Written aside, then renamed.
            let script = """
                tar --sort=name --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX \
                  --mtime='2020-01-01 00:00Z' -cf - -C "$1" mattermost | gzip -n > "$2.tmp" && mv -f "$2.tmp" "$2"
                """
            try LocalProcess.run("/bin/sh", ["-c", script, "sh", work, archive])
            written.append(archive)
        }
        return written
    }

    /// Creates the bare repository `path` (e.g. `<fleet>/origin/flow.git`): one commit per
    /// release tag v3.0.0 … v3.1.2 on `main`, each tag annotated with the release's notes
    /// (its upgrade instructions, as playbooks/flow.yml lists them), the tree holding
    /// `VERSION`, `RELEASES.md`, `Gemfile`, `package.json`, `yarn.lock` and `bin/flowctl`.
    /// Fixed names, e-mails and dates, and no configuration of the user's or the system's:
    /// the commit ids are the same on every machine, as root in CI too.
    public static func writeFlowOrigin(at path: String) throws {
        let fm = FileManager.default
        let git = try Tool.path(of: "git")
        let work = path + ".work"
        try? fm.removeItem(atPath: work)
        defer { try? fm.removeItem(atPath: work) }
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        func run(_ args: [String], date: Int = 0) throws {
            try LocalProcess.run(git, args, environment: gitEnvironment(date: date))
        }
        try run(["-C", work, "init", "-q", "--initial-branch=main"])
        for (i, release) in FleetLayout.flowReleases.enumerated() {
            for file in FleetLayout.flowTree(upTo: i) {
                let full = "\(work)/\(file.path)"
                try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try LocalProcess.writeFile(full, Array(file.text.utf8), mode: mode_t(file.mode))
            }
            // One release a day from 2020-03-01 (UTC).
            let date = 1_583_020_800 + i * 86_400
            try run(["-C", work, "add", "-A"], date: date)
            try run(["-C", work, "commit", "-q", "-m", "Flow \(release.tag)"], date: date)
            try run(["-C", work, "tag", "-a", release.tag, "-m", FleetLayout.flowNotes(release)], date: date)
        }
        try? fm.removeItem(atPath: path)
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try run(["clone", "-q", "--bare", work, path])
    }

    /// git with nothing of the caller's: no system or global configuration, no GIT_DIR or
    /// other GIT_ variable inherited (a test run from a git hook), fixed identities.
    static func gitEnvironment(date: Int = 0) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = "/dev/null"
        env["GIT_TERMINAL_PROMPT"] = "0"
        for who in ["AUTHOR", "COMMITTER"] {
            env["GIT_\(who)_NAME"] = "Flow Releases"
            env["GIT_\(who)_EMAIL"] = "releases@flow.localhost"
            env["GIT_\(who)_DATE"] = "@\(date) +0000"
        }
        return env
    }
}
