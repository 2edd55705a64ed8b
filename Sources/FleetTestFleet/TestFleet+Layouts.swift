import FleetCore
import FleetLocal
import FleetSSH
import Foundation

/// Writing each layout's files on a host (the texts are FleetLayout's).
extension TestFleet {
    /// `opt/APP/` with VERSION and `bin/APP`, and the unit APP serving the app port.
    func writePlainApp(_ host: FleetHost, version: String, log: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: "\(host.installDir)/bin", withIntermediateDirectories: true)
        try write(version + "\n", to: "\(host.installDir)/VERSION")
        try write(FleetLayout.appCommandScript(fakeApp: fakeApp), to: "\(host.installDir)/bin/\(host.app)", mode: 0o755)
        try write(
            FleetLayout.unitFile(install: host.installDirOnHost, port: host.appPort, log: log, user: host.appUser),
            to: "\(host.root)/units/\(host.app)")
    }

    /// The plain app plus everything playbooks/mattermost.yml backs up and restores.
    func writeMattermost(_ host: FleetHost, version: String) throws {
        let fm = FileManager.default
        try writePlainApp(host, version: version, log: host.appLogOnHost)
        for dir in ["\(host.installDir)/config", "\(host.installDir)/logs", "\(host.root)/var/lib/mattermost", "\(host.root)/var/backups"] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try write(FleetLayout.mattermostConfig(host), to: "\(host.installDir)/config/config.json")
        for file in FleetLayout.mattermostData(host) {
            let path = "\(host.installDir)/data/\(file.path)"
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try write(file.text, to: path)
        }
        try write(FleetLayout.mattermostDatabase(host), to: "\(host.root)/var/lib/mattermost/mattermost.db")
        try write("", to: host.appLogFile)
    }

    /// Fake `bundle` and `yarn` on the PATH, a ~/.gitconfig, Flow's three units. The
    /// checkout itself comes from `checkOutFlow` once the origin exists.
    func writeFlowHost(_ host: FleetHost) throws {
        try FileManager.default.createDirectory(atPath: "\(host.root)/home/flow", withIntermediateDirectories: true)
        // The app's user's home on a namespaced host (the playbook's steps run as `flow`);
        // the login home of a loopback host.
        let home = host.netns == nil ? "\(host.root)/home" : "\(host.root)/home/flow"
        try write(FleetLayout.flowGitConfig(host, origin: flowOrigin), to: "\(home)/.gitconfig")
        for tool in ["bundle", "yarn"] {
            try write(
                FleetLayout.toolScript(fakeApp: fakeApp, command: tool, hostRoot: host.root), to: "\(host.root)/bin/\(tool)", mode: 0o755)
        }
        for unit in host.units {
            let port = unit.hasSuffix("-web") ? host.appPort : nil
            try write(
                FleetLayout.unitFile(install: host.installDirOnHost, port: port, user: host.appUser), to: "\(host.root)/units/\(unit)")
        }
    }

    /// The fleet's Flow origin `origin/flow.git`, then each host's clone of it, detached at
    /// its version's tag and knowing only the tags up to it (as a host cloned back then
    /// would): the playbook's `git fetch --tags` brings the later ones.
    func checkOutFlow(_ versions: [String]) throws {
        let tags = FakeReleases.flowTags
        for v in Set(versions) where !tags.contains(v) {
            throw Tool.Failure(
                description: "the flow layout's versions are its release tags (\(tags.joined(separator: ", "))), not \"\(v)\"")
        }
        try FakeReleases.writeFlowOrigin(at: flowOrigin)
        let git = try Tool.path(of: "git")
        let env = FakeReleases.gitEnvironment()
        try Tool.inParallel(Array(zip(hosts, versions))) { host, version in
            let later = tags[(tags.firstIndex(of: version)! + 1)...]
            let script = """
                set -e
                "$1" clone -q --no-checkout "$2" "$3"
                \(later.isEmpty ? "" : "\"$1\" -C \"$3\" tag -d \(later.joined(separator: " ")) >/dev/null")
                "$1" -C "$3" checkout -q --detach "$4"
                """
            return try LocalProcess("/bin/sh", ["-c", script, "sh", git, flowOrigin, host.installDir, version], environment: env)
        }
    }

    /// The bare origin every Flow host's checkout fetches from.
    public var flowOrigin: String { "\(directory)/origin/flow.git" }
}
