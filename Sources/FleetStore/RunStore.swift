import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A run's id: `YYYYMMDD-HHMMSS-xxxx`, its start in UTC and 4 random hex digits. Ids sort
/// by start time (to the second); two runs started in the same second sort in no
/// particular order between themselves.
public struct RunID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let text: String

    /// Accepts exactly the id format (so a folder that is not a run is never taken for one).
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 20, u[8] == UInt8(ascii: "-"), u[15] == UInt8(ascii: "-") else { return nil }
        let isDigit = { (c: UInt8) in c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        let isHex = { (c: UInt8) in isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) }
        guard u[0..<8].allSatisfy(isDigit), u[9..<15].allSatisfy(isDigit), u[16..<20].allSatisfy(isHex) else { return nil }
        self.text = text
    }

    /// A new id for a run starting at `date`, with `random` as its last 4 hex digits.
    public init(date: Date, random: UInt16) {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        func pad(_ v: Int?, _ width: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let hex = String(random, radix: 16)
        text =
            pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "-" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
            + "-" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    public var description: String { text }
    public static func < (a: RunID, b: RunID) -> Bool { a.text < b.text }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let id = RunID(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a run id YYYYMMDD-HHMMSS-xxxx, got \"\(text)\"")
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}

/// One run's folder, `<state>/runs/<id>/`, and the names of the files in it.
public struct RunFolder: Sendable, Hashable {
    public let id: RunID
    public let path: String

    public init(id: RunID, path: String) {
        self.id = id
        self.path = path
    }

    /// Every host state change, one JSON line each (`JournalWriter`).
    public var journal: String { path + "/journal.jsonl" }
    /// The run's record (`fleetup report` renders it again).
    public var record: String { path + "/run.json" }
    public var markdownReport: String { path + "/report.md" }
    public var htmlReport: String { path + "/report.html" }
    public var junitReport: String { path + "/report.junit.xml" }
}

/// The state folder: `runs/<id>/` for every run, `locks/` for the fleet locks.
///
/// Where it is, first that applies: `--state-dir DIR`, `$FLEETUP_STATE_DIR`,
/// `$XDG_STATE_HOME/fleetup`, `~/.local/state/fleetup`. Folders are created 0700 and files
/// 0600: journals hold hostnames and command output.
public struct RunStore: Sendable, Hashable {
    /// The state folder (absolute).
    public let root: String

    public init(root: String) {
        self.root = Self.absolute(root)
    }

    /// The store the flag, the environment and the XDG rules choose (see the type's doc).
    public static func resolve(
        stateDir: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> RunStore {
        if let stateDir, !stateDir.isEmpty { return RunStore(root: stateDir) }
        if let dir = environment["FLEETUP_STATE_DIR"], !dir.isEmpty { return RunStore(root: dir) }
        // The XDG spec: a relative XDG_STATE_HOME is invalid and ignored.
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") { return RunStore(root: xdg + "/fleetup") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return RunStore(root: home + "/.local/state/fleetup")
    }

    public var runsFolder: String { root + "/runs" }
    public var locksFolder: String { root + "/locks" }

    /// Creates a new run folder (mkdir: never an existing one) for a run starting `now`.
    public func create(now: Date = Date()) throws -> RunFolder {
        try checkFolders()
        try Posix.makeFolders(runsFolder)
        for suffix in Self.suffixes(now) {
            let id = RunID(date: now, random: suffix)
            let folder = RunFolder(id: id, path: runsFolder + "/" + id.text)
            if try Posix.makeFolder(folder.path) {
                try Posix.syncFolder(runsFolder)
                return folder
            }
        }
        throw StoreError(
            .io, path: runsFolder, "cannot find an unused run id for \(Timestamp.text(now)) (every suffix after its millisecond is taken)")
    }

    /// The suffixes a run starting at `now` tries, in order: the 4 hex digits grow with the
    /// millisecond (65 values each: ms × 65 + 0…64, drawn at random), so runs started in the
    /// same second still sort by start and `latest` is the last one started; when its
    /// millisecond's values are taken, the next free one above them.
    /// (Lazily: the first draw nearly always makes a folder; the rest is never built then.)
    static func suffixes(_ now: Date) -> some Sequence<UInt16> {
        let ms = Int((now.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        let base = max(0, ms) * 65
        let drawn = (0..<16).map { _ in UInt16(base + Int.random(in: 0..<65)) }
        return [AnySequence(drawn), AnySequence((base...Int(UInt16.max)).lazy.map { UInt16($0) })].joined()
    }

    /// Every stored run, newest first. Entries of `runs/` that are not run folders are ignored.
    public func list() throws -> [RunFolder] {
        // A file given as the state folder is a mistake to say, not a store with no runs.
        try checkFolders()
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: runsFolder)
        } catch {
            if !FileManager.default.fileExists(atPath: runsFolder) { return [] }
            throw StoreError(.io, path: runsFolder, "cannot list the runs: \(error.localizedDescription)")
        }
        var runs: [RunFolder] = []
        for name in names {
            guard let id = RunID(name) else { continue }
            var isDir: ObjCBool = false
            let path = runsFolder + "/" + name
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
                runs.append(RunFolder(id: id, path: path))
            }
        }
        return runs.sorted { $0.id > $1.id }
    }

    /// The newest run, or nil when there is none.
    public func latest() throws -> RunFolder? { try list().first }

    /// The run with this id, or the only one whose id starts with `idOrPrefix`.
    public func find(_ idOrPrefix: String) throws -> RunFolder {
        let runs = try list()
        if let exact = runs.first(where: { $0.id.text == idOrPrefix }) { return exact }
        let matches = idOrPrefix.isEmpty ? [] : runs.filter { $0.id.text.hasPrefix(idOrPrefix) }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            let known =
                runs.isEmpty
                ? "there are no runs yet"
                : "the newest are " + runs.prefix(5).map(\.id.text).joined(separator: ", ")
            throw StoreError(.runNotFound, path: runsFolder, "no run \"\(idOrPrefix)\" (\(known))")
        }
        let shown = matches.prefix(10).map(\.id.text).joined(separator: ", ")
        let more = matches.count > 10 ? " and \(matches.count - 10) more" : ""
        throw StoreError(
            .ambiguousRun, path: runsFolder,
            "\"\(idOrPrefix)\" matches \(matches.count) runs: \(shown)\(more); give more of the id")
    }

    /// Throws `notAFolder` when the state folder or its `runs/` exists as something else
    /// than a folder (missing ones are fine: they are made when a run starts).
    public func checkFolders() throws(StoreError) {
        for (path, what) in [(root, "the state folder, which holds runs/ and locks/"), (runsFolder, "the folder of the stored runs")] {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                throw StoreError(.notAFolder, path: path, "is not a folder (expected \(what))")
            }
        }
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }
}
