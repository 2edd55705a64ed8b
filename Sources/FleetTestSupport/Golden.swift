import Foundation

/// Golden files: the expected output of a renderer, kept in the repository.
/// `FLEETUP_UPDATE_GOLDEN=1` rewrites them from the actual output instead of comparing.
public enum Golden {
    /// nil when `actual` is the file's text (or the file was rewritten); otherwise what
    /// differs — the first differing lines with three of context — for the test to report.
    public static func mismatch(_ actual: String, golden path: String) throws -> String? {
        if ProcessInfo.processInfo.environment["FLEETUP_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        }
        let expected = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard actual != expected else { return nil }
        return "output differs from \(path) (FLEETUP_UPDATE_GOLDEN=1 rewrites it):\n" + difference(expected, actual)
    }

    /// Where two texts part: the lines around the first difference, `-` expected and `+`
    /// actual, and how many lines each has.
    static func difference(_ expected: String, _ actual: String) -> String {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        var out = "@@ line \(first + 1) (expected \(a.count) lines, got \(b.count)) @@\n"
        for i in max(0, first - 3)..<first { out += " \(a[i])\n" }
        for i in first..<min(a.count, first + 6) { out += "-\(a[i])\n" }
        for i in first..<min(b.count, first + 6) { out += "+\(b[i])\n" }
        return out
    }
}
