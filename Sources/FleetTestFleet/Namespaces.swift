import FleetCore
import FleetLocal
import Foundation

/// Test hosts with Linux namespaces of their own (`FleetSpec.namespaces`, docs/architecture.md
/// "Namespaced test hosts"): each host is a network namespace with its own address on a
/// veth pair the fleet creates, sshd on port 22 of that address, its own hostname (UTS),
/// and its own `/opt`, `/tmp`, `/home`, `/var/lib`, `/var/log` and `/var/backups` (bind
/// mounts of its folders in a mount namespace of its own). Needs root, `ip` (iproute2),
/// `unshare` and `nsenter` (util-linux).
///
/// Addresses come from 198.18.0.0/16 (RFC 2544's benchmarking range, routed nowhere): host
/// slot s is the /30 at 198.18.0.0 + 4s, the fleet's side of the veth .1, the host .2.
/// Nothing else is ever contacted. Every name the fleet makes starts `fleetup-` (the
/// namespaces) or `fu` (the veth ends; the host's end is moved into its namespace and
/// renamed `eth0`). A test's fleet is owned by the test process (`fleetup-PID-…`): when
/// that process died without `down` (kill -9 of a test run), the next namespaced `up`
/// removes its namespaces with everything in them (`sweepStale`). A fleet of
/// `scripts/fleet up --namespaces` (`fleetup-cli-…`) lives until `scripts/fleet down`.
public enum Namespaces {
    static let prefix = "fleetup-"
    static let base: UInt32 = 198 << 24 | 18 << 16
    /// The fleets' back-end networks (a database host's, `DatabaseHost`): 198.19.0.0/16, the
    /// other half of RFC 2544's 198.18.0.0/15. Each lives inside its own namespaces only, so
    /// fleets side by side use the same addresses without meeting.
    static let backBase: UInt32 = 198 << 24 | 19 << 16
    static let slots = 16384
    static let lockFile = "/run/fleetup-test-netns.lock"
    /// The folders each host has of its own, bound over the machine's.
    static let privateFolders = ["opt", "tmp", "home", "var/lib", "var/log", "var/backups"]
    /// The files of /etc each host has of its own (its users, its sudo rules, its name),
    /// bound one by one where its /etc cannot be an overlay.
    static let privateFiles = ["passwd", "group", "shadow", "sudoers", "hosts"]
    /// The SSH login user of a namespaced host: an ordinary user with sudo (NOPASSWD).
    public static let loginUser = "deploy"
    static let loginID = 2001
    /// The app's own user (its name is the app's) owns the app's files.
    static let appID = 2002

    /// A host's own /etc files: the machine's system users and groups (ids below 1000:
    /// root, sshd's privilege separation user, nobody) plus `deploy` and the app's user;
    /// sudo for root and `deploy` (NOPASSWD, or with the password whose crypt(3) hash is
    /// `passwordHash`); its name in /etc/hosts (sudo looks it up).
    static func etcFiles(host: String, app: String, passwordHash: String? = nil) -> [(name: String, text: String, mode: Int)] {
        func system(_ file: String, idField: Int) -> String {
            let data = FileHandle(forReadingAtPath: file)?.readDataToEndOfFile() ?? Data()
            return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                guard f.count > idField, let id = Int(f[idField]) else { return false }
                return id < 1000 || id == 65534
            }.map { $0 + "\n" }.joined()
        }
        let users = system("/etc/passwd", idField: 2)
        let shadowSystem = users.split(separator: "\n").map {
            "\($0.split(separator: ":")[0]):*:20000:0:99999:7:::\n"
        }
        return [
            (
                "passwd",
                users + "\(loginUser):x:\(loginID):\(loginID):deploy:/home/\(loginUser):/bin/bash\n"
                    + "\(app):x:\(appID):\(appID):\(app):\(app == "flow" ? "/home/flow" : "/opt/\(app)"):/usr/sbin/nologin\n", 0o644
            ),
            ("group", system("/etc/group", idField: 2) + "\(loginUser):x:\(loginID):\n\(app):x:\(appID):\n", 0o644),
            // `*`: no password, not locked (sshd refuses a locked account's keys too).
            (
                "shadow",
                shadowSystem.joined() + "\(loginUser):\(passwordHash ?? "*"):20000:0:99999:7:::\n\(app):*:20000:0:99999:7:::\n", 0o640
            ),
            (
                "sudoers",
                "Defaults !lecture\nroot ALL=(ALL:ALL) ALL\n\(loginUser) ALL=(ALL:ALL) \(passwordHash == nil ? "NOPASSWD: " : "")ALL\n",
                0o440
            ),
            ("hosts", "127.0.0.1 localhost\n127.0.1.1 \(host)\n", 0o644),
        ]
    }

    /// Whether namespaced hosts can be made here: root, iproute2 and util-linux, and a
    /// network namespace, a veth pair and a mount namespace actually made (a container
    /// without CAP_SYS_ADMIN/CAP_NET_ADMIN has the tools and root but cannot).
    public static let available: Bool = {
        guard geteuid() == 0, let ip = LocalProcess.find("ip"), let unshare = LocalProcess.find("unshare"),
            LocalProcess.find("nsenter") != nil
        else { return false }
        let probe = "\(prefix)probe-\(getpid())"
        let link = "probe\(getpid() % 100_000)"
        defer {
            _ = try? Tool.run(ip, ["link", "del", "fu" + link])
            _ = try? Tool.run(ip, ["netns", "del", probe])
        }
        do {
            try Tool.run(ip, ["netns", "add", probe])
            try Tool.run(
                ip, ["link", "add", "fu" + link, "type", "veth", "peer", "name", "fv" + link])
            try Tool.run(ip, ["netns", "exec", probe, unshare, "--mount", "--uts", "--propagation", "private", "/bin/true"])
            return true
        } catch {
            return false
        }
    }()

    /// The namespaced side of a host: its namespace and addresses.
    struct Slot: Sendable, Hashable, Codable {
        var netns: String
        var slot: Int
        /// Its address on the fleet's back-end network, when the fleet has one.
        var backAddress: String?
        /// Reachable on the back end only (behind the bastion): its link to the machine removed.
        var hidden: Bool?
        var hostAddress: String { Self.text(base + UInt32(slot * 4) + 2) }
        var fleetAddress: String { Self.text(base + UInt32(slot * 4) + 1) }
        var outerLink: String { Self.outerLink(netns) }
        var innerLink: String { "fv\(Self.linkTag(netns))" }

        /// The fleet's end of a namespace's veth pair: `fu` and the name's tag and number.
        static func outerLink(_ netns: String) -> String { "fu\(linkTag(netns))" }
        static func linkTag(_ netns: String) -> String { netns.split(separator: "-").dropFirst(2).joined() }

        static func text(_ a: UInt32) -> String { "\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)" }
    }

    /// The range of every fleet's addresses, front and back end.
    static let range = "198.18.0.0/15"

    /// While a fleet exists, the machine's own namespace routes 198.18.0.0/15 nowhere (an
    /// `unreachable` route; each host's /30 is more specific and wins): a packet for an
    /// address of a host behind the bastion, a database, or a fleet already gone fails at
    /// once with "Network is unreachable" instead of leaving the machine by its default
    /// route. Made under the lock, before any namespace.
    static func keepRangeLocal(_ ip: String) throws {
        try Tool.run(ip, ["route", "replace", "unreachable", range])
    }

    /// Removes that route once no fleet's namespace is left (under the lock).
    static func releaseRangeIfUnused() {
        guard let ip = LocalProcess.find("ip") else { return }
        _ = try? withLock { if ours().isEmpty { _ = try? Tool.run(ip, ["route", "del", "unreachable", range]) } }
    }

    /// Makes `count` namespaces with their veth pairs and addresses (under a lock, so two
    /// helpers never take one slot), after removing the stale ones of dead helpers.
    static func create(count: Int, tag: String, owner: pid_t?) throws -> [Slot] {
        let ip = try Tool.path(of: "ip")
        return try withLock {
            sweepStale()
            // Two fleets of one owner may draw one tag (or a pid reused by a new test process
            // meets an old owner's names): that tag is taken, the caller draws another.
            let stem = "\(prefix)\(owner.map { String($0) } ?? "cli")-\(tag)-"
            if ours().contains(where: { $0.hasPrefix(stem) }) { throw TagTaken() }
            try keepRangeLocal(ip)
            let used = try usedSlots(ip)
            let free = (0..<slots).lazy.filter { !used.contains($0) }.prefix(count)
            guard free.count == count else {
                throw Tool.Failure(description: "no room for \(count) namespaced hosts in 198.18.0.0/16 (\(used.count) slots taken)")
            }
            var made: [Slot] = []
            do {
                for (i, s) in free.enumerated() {
                    let slot = Slot(netns: "\(prefix)\(owner.map { String($0) } ?? "cli")-\(tag)-\(i + 1)", slot: s)
                    try Tool.run(ip, ["netns", "add", slot.netns])
                    made.append(slot)
                    try Tool.run(ip, ["link", "add", slot.outerLink, "type", "veth", "peer", "name", slot.innerLink])
                    try Tool.run(ip, ["link", "set", slot.innerLink, "netns", slot.netns])
                    try Tool.run(ip, ["addr", "add", slot.fleetAddress + "/30", "dev", slot.outerLink])
                    try Tool.run(ip, ["link", "set", slot.outerLink, "up"])
                    try Tool.run(ip, ["-n", slot.netns, "link", "set", slot.innerLink, "name", "eth0"])
                    try Tool.run(ip, ["-n", slot.netns, "addr", "add", slot.hostAddress + "/30", "dev", "eth0"])
                    try Tool.run(ip, ["-n", slot.netns, "link", "set", "eth0", "up"])
                    try Tool.run(ip, ["-n", slot.netns, "link", "set", "lo", "up"])
                }
            } catch {
                for slot in made { remove(slot.netns) }
                throw error
            }
            return made
        }
    }

    /// Makes the namespace `netns` with a bridge `br0` holding `routerAddress`/16, and links
    /// each of `members` to it: a veth pair whose ends are the member's `eth1` (with its
    /// address from `memberAddress`) and a port of the bridge. Nothing of it is in the
    /// machine's own namespace. Under the namespaces' lock.
    static func createBackEnd(netns: String, routerAddress: String, members: [Slot], memberAddress: (Int) -> String) throws {
        let ip = try Tool.path(of: "ip")
        try withLock {
            try keepRangeLocal(ip)
            try Tool.run(ip, ["netns", "add", netns])
            do {
                try Tool.run(ip, ["-n", netns, "link", "set", "lo", "up"])
                try Tool.run(ip, ["-n", netns, "link", "add", "br0", "type", "bridge"])
                try Tool.run(ip, ["-n", netns, "addr", "add", routerAddress + "/16", "dev", "br0"])
                try Tool.run(ip, ["-n", netns, "link", "set", "br0", "up"])
                for (i, member) in members.enumerated() {
                    // Made in the member's namespace, then one end moved to the router's:
                    // never a name in the machine's own.
                    let port = "p\(i)"
                    try Tool.run(ip, ["-n", member.netns, "link", "add", "eth1", "type", "veth", "peer", "name", port])
                    try Tool.run(ip, ["-n", member.netns, "link", "set", port, "netns", netns])
                    try Tool.run(ip, ["-n", member.netns, "addr", "add", memberAddress(i) + "/16", "dev", "eth1"])
                    try Tool.run(ip, ["-n", member.netns, "link", "set", "eth1", "up"])
                    try Tool.run(ip, ["-n", netns, "link", "set", port, "master", "br0", "up"])
                }
            } catch {
                remove(netns)
                throw error
            }
        }
    }

    /// Removes a host's link to the machine (its veth pair): it is reached on the back end only.
    static func unlinkFromMachine(_ slot: Slot) throws {
        try Tool.run(try Tool.path(of: "ip"), ["link", "del", slot.outerLink])
    }

    /// Namespaces with this tag (of this owner) exist already.
    struct TagTaken: Error {}

    /// The argv that starts `sshd` as host `name` inside `netns`: its hostname set, its own
    /// folders of `root` bound over the machine's, then sshd exec'd (it forks and listens).
    static func sshdCommand(
        netns: String, name: String, root: String, sshd: String, config: String, log: String
    ) throws -> (
        String, [String]
    ) {
        // A folder the host must still see inside one it binds over (the Swift runtime under
        // /opt/swift, which the fake app's tools link) is bound into the host's own folder
        // first, and the host's folder bound recursively.
        let keep = swiftRuntime.map { [$0] } ?? []
        let script = """
            hostname "$1" || exit 1
            for d in \(privateFolders.joined(separator: " ")); do
              for k in \(keep.map(ShellQuote.quote).joined(separator: " ")); do
                case "$k" in "/$d"/*) mkdir -p "$2/$d${k#/$d}" && mount --bind "$k" "$2/$d${k#/$d}" || exit 1 ;; esac
              done
              mount --rbind "$2/$d" "/$d" || exit 1
            done
            # Its own /etc: the machine's, overlaid with its folder's etc/ (its users, sudo rules,
            # name, and /etc/APP); where overlayfs cannot be mounted, its files bound one by one.
            mkdir -p "$2/.etc-work" || exit 1
            if ! mount -t overlay overlay -o "lowerdir=/etc,upperdir=$2/etc,workdir=$2/.etc-work" /etc 2>/dev/null; then
              for f in \(privateFiles.joined(separator: " ")); do mount --bind "$2/etc/$f" "/etc/$f" || exit 1; done
            fi
            exec "$3" -f "$4" -E "$5"
            """
        return (
            try Tool.path(of: "ip"),
            [
                "netns", "exec", netns, try Tool.path(of: "unshare"), "--mount", "--uts", "--propagation", "private", "/bin/sh", "-c",
                script, "sh", name, root, sshd, config, log,
            ]
        )
    }

    /// The folder of the Swift runtime this process (and the fake app, built alike) links,
    /// from /proc/self/maps; nil when it is linked statically.
    static let swiftRuntime: String? = {
        // (/proc files report a size of 0: read to the end, not by size.)
        guard let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return nil }
        let maps = String(decoding: data, as: UTF8.self)
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasSuffix("/libswiftCore.so") else {
                continue
            }
            return String(path.dropLast("/libswiftCore.so".count))
        }
        return nil
    }()

    /// Runs a program in the namespaces of process `pid` (a host's sshd): its network, mounts
    /// and hostname.
    static func inside(pid: pid_t, _ program: String, _ arguments: [String]) throws -> (String, [String]) {
        (try Tool.path(of: "nsenter"), ["-t", String(pid), "-n", "-m", "-u", "--", program] + arguments)
    }

    /// Ends every process in `netns`, deletes its veth pair (at once: the kernel frees a
    /// deleted namespace's devices later) and the namespace.
    static func remove(_ netns: String) {
        guard let ip = LocalProcess.find("ip") else { return }
        let pids = ((try? Tool.run(ip, ["netns", "pids", netns])) ?? "").split(whereSeparator: \.isNewline).compactMap { pid_t($0) }
        Processes.terminate(pids)
        _ = try? Tool.run(ip, ["link", "del", Slot.outerLink(netns)])
        _ = try? Tool.run(ip, ["netns", "del", netns])
    }

    /// The test fleets' namespaces (`fleetup-PID-…`) whose test process is gone: each is
    /// removed with everything running in it.
    @discardableResult
    public static func sweepStale() -> [String] {
        var removed: [String] = []
        for name in ours() {
            guard let pid = pid_t(name.dropFirst(prefix.count).prefix { $0 != "-" }), !Processes.isAlive(pid) else { continue }
            remove(name)
            removed.append(name)
        }
        return removed
    }

    /// Every namespace named by a fleet helper.
    public static func ours() -> [String] {
        guard let ip = LocalProcess.find("ip"), let list = try? Tool.run(ip, ["netns", "list"]) else { return [] }
        return list.split(whereSeparator: \.isNewline).compactMap { line in
            let name = String(line.split(separator: " ").first ?? "")
            return name.hasPrefix(prefix) ? name : nil
        }
    }

    /// The slots whose fleet-side address some interface has.
    static func usedSlots(_ ip: String) throws -> Set<Int> {
        var used = Set<Int>()
        for word in try Tool.run(ip, ["-4", "-o", "addr", "show"]).split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = word.split(separator: "/").first?.split(separator: ".").compactMap { UInt32($0) } ?? []
            guard parts.count == 4, parts[0] == 198, parts[1] == 18 else { continue }
            used.insert(Int((parts[2] << 8 | parts[3]) / 4))
        }
        return used
    }

    /// `body` holding the machine-wide lock of the fleet helpers' namespaces.
    static func withLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open(lockFile, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Tool.Failure(description: "cannot open \(lockFile): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else {
            throw Tool.Failure(description: "cannot lock \(lockFile): \(String(cString: strerror(errno)))")
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
