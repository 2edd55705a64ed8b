import Foundation

/// What ran on a host, as the host recorded it, and the inputs a real run of the showcase
/// playbooks needs besides the fleet's own inventory.
extension TestFleet {
    /// The host's `systemctl` actions in order, one per line: `stop mattermost`,
    /// `restart flow-sidekiq`, `reload flow-web`; a refused one ends in ` failed`. The
    /// fleet's own starts at `up` are not in it.
    public func serviceLog(of host: FleetHost) -> [String] {
        Self.lines(host.serviceLogFile)
    }

    /// The Flow host's `bundle`, `yarn` and `bin/flowctl` actions in order, each with the
    /// checkout's version at that moment: `bundle install v3.1.2`, `db:migrate v3.1.2`,
    /// `cache clear v3.1.2`; a failed one ends in ` failed`.
    public func flowLog(of host: FleetHost) -> [String] {
        Self.lines(host.flowLogFile)
    }

    /// The Mattermost host's app log (`logs/mattermost.log`): a line per start, naming the
    /// version, and a line per failing health answer.
    public func appLog(of host: FleetHost) -> [String] {
        Self.lines(host.appLogFile)
    }

    /// The pid of a unit's running process (nil when it is not running): a restart gives a
    /// new one, a reload keeps it.
    public func runningPid(of unit: String, on host: FleetHost) -> pid_t? {
        guard let pid = Processes.pid(inFile: "\(host.root)/run/\(unit).pid"), Processes.isAlive(pid) else { return nil }
        return pid
    }

    /// The fake Mattermost release archives in `<fleet>/releases` (built on each call);
    /// returns the folder, for an inventory overlay's `release_dir`.
    @discardableResult
    public func buildMattermostReleases(_ versions: [String] = FakeReleases.mattermostVersions) throws -> String {
        let dir = "\(directory)/releases"
        try FakeReleases.writeMattermostArchives(versions, in: dir)
        return dir
    }

    /// Writes an inventory in the fleet's folder that sets `vars` for every host (`all:
    /// vars:`); given as the last `-i`, it beats the demo inventory's values, as in
    /// `-i inventory.yml -i inventories/demo/mattermost.yml -i OVERLAY` with
    /// `["release_dir": fleet.buildMattermostReleases()]`. Returns its path.
    @discardableResult
    public func writeInventoryOverlay(_ vars: [String: String], named name: String = "overlay.yml") throws -> String {
        let path = "\(directory)/\(name)"
        try write(FleetLayout.overlayInventory(vars), to: path)
        return path
    }

    /// A log's lines (lossy: a process killed mid-write may leave bytes that are not UTF-8).
    static func lines(_ path: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
