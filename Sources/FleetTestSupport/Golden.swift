import FleetSSH
import Foundation

/// Golden files: the expected output of a renderer, kept in the repository.
/// `FLEETUP_UPDATE_GOLDEN=1` rewrites them from the actual output instead of comparing.
public enum Golden {
    /// nil when `actual` is the file's text (or the file was rewritten); otherwise what
    /// differs, as `diff -u` shows it, for the test to report.
    public static func mismatch(_ actual: String, golden path: String) throws -> String? {
        if ProcessInfo.processInfo.environment["FLEETUP_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        }
        let expected = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard actual != expected else { return nil }
        let tmp = NSTemporaryDirectory() + "golden-\(UUID().uuidString)"
        try actual.write(toFile: tmp, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let diff = (try? LocalProcess("/usr/bin/diff", ["-u", path, tmp]).waitForExit().stdout) ?? "(no diff)"
        return "output differs from \(path) (FLEETUP_UPDATE_GOLDEN=1 rewrites it):\n\(diff)"
    }
}
