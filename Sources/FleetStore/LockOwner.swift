import FleetCore
import Foundation

/// Which fleet a lock is for: the hosts a playbook's plan covers.
///
/// The key is FNV-1a 64 (as 16 hex digits) of the plan's hosts as the inventory says to
/// reach them (`ansible_host:ansible_port`, `[v6]:port`), sorted and one per line: what the
/// fleet IS, not where its files are. A byte-identical copy of the playbook elsewhere, a
/// second checkout, another operator's machine: the same hosts give the same key. (Two runs
/// over overlapping but different host sets get different keys; the host locks keep them
/// apart host by host.)
public struct FleetKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 16 lower-case hex digits; the lock files are named after it.
    public let hex: String
    /// For humans: `playbooks/mattermost.yml + inventories/demo`.
    public let label: String
    /// The endpoints that make the key, sorted.
    public let endpoints: [String]

    /// The key of a plan's hosts; `label` names the fleet for humans.
    public init(hosts: [FleetCore.Host], label: String) {
        endpoints = Set(hosts.map { ConnectionSettings(hostName: $0.name, vars: $0.vars).endpoint }).sorted()
        hex = Self.fnv1a64(endpoints.joined(separator: "\n"))
        self.label = label
    }

    /// A key read back (a run's journal header keeps its hex).
    public init(hex: String, label: String) {
        self.hex = hex
        self.label = label
        endpoints = []
    }

    /// `playbooks/mattermost.yml + inventories/demo`: the files as given.
    public static func label(playbook: String, inventories: [String]) -> String {
        playbook + " + " + inventories.joined(separator: ", ")
    }

    public var description: String { "\(label) (fleet \(hex))" }

    /// FNV-1a, 64 bits, of the UTF-8 bytes, as 16 hex digits.
    public static func fnv1a64(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Who holds a fleet's lock: written into the lock file (and the remote owner.json).
public struct LockOwner: Sendable, Hashable, Codable, CustomStringConvertible {
    public var runID: String
    /// Login name of the operator.
    public var user: String
    /// The machine fleetup runs on (its hostname).
    public var machine: String
    public var pid: Int32
    public var startedAt: Date
    /// As given on the command line (for humans).
    public var playbook: String
    public var inventories: [String]
    public var fleetKey: String
    public var fleet: String

    public init(
        runID: String, user: String, machine: String, pid: Int32, startedAt: Date,
        playbook: String, inventories: [String], fleetKey: String, fleet: String
    ) {
        self.runID = runID
        self.user = user
        self.machine = machine
        self.pid = pid
        // Whole seconds: what the file keeps, so an owner read back equals the one written.
        self.startedAt = Date(timeIntervalSince1970: startedAt.timeIntervalSince1970.rounded(.down))
        self.playbook = playbook
        self.inventories = inventories
        self.fleetKey = fleetKey
        self.fleet = fleet
    }

    /// This process as the owner of `key` for run `runID`.
    public static func current(
        runID: String, key: FleetKey, playbook: String, inventories: [String],
        now: Date = Date()
    ) -> LockOwner {
        LockOwner(
            runID: runID, user: Posix.userName, machine: Posix.machineName, pid: getpid(), startedAt: now,
            playbook: playbook, inventories: inventories, fleetKey: key.hex, fleet: key.label)
    }

    /// `run 20261202-031501-3f2a (alice@ops1, pid 4242, since 2026-12-02T03:15:01Z)`
    public var description: String {
        "run \(runID) (\(user)@\(machine), pid \(pid), since \(Timestamp.text(startedAt)))"
    }

    /// True when the owner ran on `machine` (default: this one, by hostname) and its pid is
    /// gone here: the lock is stale.
    public func isStale(onMachine machine: String? = nil) -> Bool {
        self.machine == (machine ?? Posix.machineName) && !Posix.isAlive(pid)
    }

    enum CodingKeys: String, CodingKey {
        case runID, user, machine, pid, startedAt, playbook, inventories, fleetKey, fleet
    }

    // startedAt is always ISO-8601 UTC text, whatever encoder is used.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runID = try c.decode(String.self, forKey: .runID)
        user = try c.decode(String.self, forKey: .user)
        machine = try c.decode(String.self, forKey: .machine)
        pid = try c.decode(Int32.self, forKey: .pid)
        let text = try c.decode(String.self, forKey: .startedAt)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .startedAt, in: c, debugDescription: "expected an ISO-8601 time, got \"\(text)\"")
        }
        startedAt = date
        playbook = try c.decodeIfPresent(String.self, forKey: .playbook) ?? ""
        inventories = try c.decodeIfPresent([String].self, forKey: .inventories) ?? []
        fleetKey = try c.decodeIfPresent(String.self, forKey: .fleetKey) ?? ""
        fleet = try c.decodeIfPresent(String.self, forKey: .fleet) ?? ""
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runID, forKey: .runID)
        try c.encode(user, forKey: .user)
        try c.encode(machine, forKey: .machine)
        try c.encode(pid, forKey: .pid)
        try c.encode(Timestamp.text(startedAt), forKey: .startedAt)
        try c.encode(playbook, forKey: .playbook)
        try c.encode(inventories, forKey: .inventories)
        try c.encode(fleetKey, forKey: .fleetKey)
        try c.encode(fleet, forKey: .fleet)
    }

    /// The owner as one line of JSON (sorted keys): what lock files hold.
    public func json() -> String {
        // Encoding plain strings and numbers cannot fail.
        let data = try! JournalFormat.encoder().encode(self)
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads an owner from a lock file's text.
    public static func parse(_ text: String) throws -> LockOwner {
        try JournalFormat.decoder().decode(LockOwner.self, from: Data(text.utf8))
    }
}

/// Why a fleet's lock could not be taken, read or released.
public enum LockError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another run holds the lock.
    case held(LockOwner)
    /// The lock exists but its owner record cannot be read (`place` is the file, or
    /// `host:path`).
    case unreadable(place: String, problem: String)
    /// The lock host could not be asked, or refused (unreachable, permissions, no shell).
    case remote(host: String, reason: String)
    /// A local file operation failed.
    case local(path: String, reason: String)
    /// The inventory's `fleetup_lock_host` names no host of the inventory.
    case badLockHost(String)

    public var description: String {
        switch self {
        case .held(let owner):
            return "the fleet is locked by \(owner); wait for it to finish, or `fleetup lock release --force` if it is gone"
        case .unreadable(let place, let problem):
            return "the fleet is locked, but the lock's owner cannot be read (\(place): \(problem)); "
                + "`fleetup lock release --force` removes it if no run is going"
        case .remote(let host, let reason):
            return "lock host \(host): \(reason)"
        case .local(let path, let reason):
            return "\(path): \(reason)"
        case .badLockHost(let name):
            return
                "fleetup_lock_host: \"\(name)\" is not a host of the inventory (expected the inventory name of the host that keeps the fleet's lock)"
        }
    }
}
