import Foundation

/// What a campaign found and did, shared by its workers (behind a lock).
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var cases = 0
    private(set) var cpu = 0.0
    private(set) var byFamily: [String: Int] = [:]
    /// Family -> how its cases ended (`exit 2`, `signal 11`, `timeout`).
    private(set) var endings: [String: [String: Int]] = [:]
    private(set) var byClass: [String: Int] = [:]
    /// Signature -> (class, how many times, the first case's folder).
    private(set) var signatures: [String: (kind: String, count: Int, sample: String)] = [:]
    private(set) var lastNew = Date()

    /// Records a case; returns true when its finding is new (a new signature).
    func record(family: String, cpu: Double, ending: String, finding: String?, signature: String, sample: () -> String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        cases += 1
        self.cpu += cpu
        byFamily[family, default: 0] += 1
        endings[family, default: [:]][ending, default: 0] += 1
        guard let finding else { return false }
        byClass[finding, default: 0] += 1
        if var known = signatures[signature] {
            known.count += 1
            signatures[signature] = known
            return false
        }
        signatures[signature] = (finding, 1, sample())
        lastNew = Date()
        return true
    }

    func snapshot<T>(_ body: (Tally) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }
}

/// Findings are kept as replayable folders: the command, its output, and the case's files.
enum Findings {
    /// `class: first line of stderr`, with numbers and the case's folder taken out, so the
    /// same problem found again is counted, not saved again.
    static func signature(_ kind: String, _ family: String, _ stderr: String, caseDir: String) -> String {
        let line = stderr.split(separator: "\n").first { !$0.hasPrefix("fleetup: warning:") } ?? ""
        var normal = line.replacingOccurrences(of: caseDir, with: "CASE")
        normal = String(normal.map { $0.isNumber ? "#" : $0 }.prefix(160))
        return "\(kind) \(family): \(normal)"
    }

    static func save(
        _ dir: String, to folder: String, args: [String], env: [String: String], outcome: Runner.Outcome, kind: String,
        safeInventory: String
    ) -> String {
        let fm = FileManager.default
        let target = folder + "/" + kind + "/" + UUID().uuidString.prefix(8)
        try? fm.createDirectory(atPath: target, withIntermediateDirectories: true)
        // The safe inventory goes with it, so the folder replays alone.
        try? fm.copyItem(atPath: safeInventory, toPath: dir + "/safe.ini")
        let args = args.map { $0 == safeInventory ? dir + "/safe.ini" : $0 }
        // The fifo and the sparse file would not copy (or copy as 65 MB): made again by replay.
        for special in ["fifo", "sparse", ".stdout", ".stderr"] { try? fm.removeItem(atPath: dir + "/" + special) }
        try? fm.copyItem(atPath: dir, toPath: target + "/case")
        let quoted = args.map {
            "'" + $0.replacingOccurrences(of: "'", with: "'\\''").replacingOccurrences(of: dir, with: "'\"$case\"'") + "'"
        }
        let script = """
            #!/bin/sh
            # Replays one finding: \(kind). Made by scripts/fuzz; run it from anywhere.
            case="$(cd "$(dirname "$0")" && pwd)/case"
            mkfifo "$case/fifo" 2>/dev/null; truncate -s 65M "$case/sparse"
            cd "$case" && env -i \(env.filter { $0.key != "HOME" && $0.key != "FLEETUP_STATE_DIR" }.map { "\($0.key)='\($0.value)'" }.sorted().joined(separator: " ")) HOME="$case" FLEETUP_STATE_DIR="$case/state" \\
              sh -c 'ulimit -v \(env["FUZZ_MEMORY_KB"] ?? "2097152"); exec "$0" "$@"' "${FLEETUP:-fleetup}" \(quoted.joined(separator: " "))

            """
        _ = fm.createFile(atPath: target + "/replay.sh", contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        let status = outcome.timedOut ? "timed out" : outcome.signal.map { "signal \($0)" } ?? "exit \(outcome.status ?? -1)"
        _ = fm.createFile(
            atPath: target + "/outcome.txt",
            contents: Data("\(kind): \(status)\n\n--- stderr\n\(outcome.stderr)\n--- stdout\n\(outcome.stdout)\n".utf8))
        return target
    }
}
