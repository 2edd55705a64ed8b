import FleetCore
import Foundation

import struct FleetCore.Host

/// Reads hosts' versions with the playbook's `version.detect` command (`plan --detect`,
/// and `run` before it plans a host). Parsing the output is pure and separate.
public enum VersionDetector {
    /// How long the version command may take.
    public static let defaultTimeout: Duration = .seconds(30)

    /// The version in a finished command's output: the first group of `pattern` when the
    /// playbook gives one, else the first `x.y.z` (design.md §4).
    public static func version(in result: CommandResult, pattern: String? = nil) -> ObservedVersion {
        guard result.succeeded else {
            let why = result.stderr.text.split(separator: "\n").last.map { ": \($0)" } ?? ""
            return .failed("version command \(result.outcomeText)\(why)")
        }
        let out = result.stdout.text
        if let pattern {
            guard let re = try? NSRegularExpression(pattern: pattern) else {
                return .failed("version.pattern \"\(pattern)\" is not a regular expression")
            }
            let range = NSRange(out.startIndex..., in: out)
            if let m = re.firstMatch(in: out, range: range) {
                let r = m.numberOfRanges > 1 ? m.range(at: 1) : m.range
                if let sr = Range(r, in: out), Version(String(out[sr])) != nil {
                    return .known(String(out[sr]), .detected)
                }
            }
            return .failed("version command printed no version matching \(pattern): \(firstLine(out))")
        }
        guard let v = Version.first(in: out) else {
            return .failed("version command printed no version (expected x.y.z in its output): \(firstLine(out))")
        }
        return .known(v.text, .detected)
    }

    /// The version command as it runs on one host.
    public static func command(
        for host: Host, playbook: Playbook, target: Version, overrides: [String: VarValue] = [:],
        timeout: Duration = defaultTimeout
    ) throws(PathError) -> RemoteCommand {
        let scope = RolloutPlanner.scope(for: host, playbook: playbook, target: target, overrides: overrides)
        do {
            return try scope.render(playbook.version.detect, as: .shell).command(timeout: timeout)
        } catch {
            throw PathError(.render, "version.detect: \(error.message)", line: playbook.version.line)
        }
    }

    /// Runs the version command on every host, `forks` at a time; results by host name.
    /// A host never started (the caller was cancelled) is `.failed`.
    public static func detect(
        _ hosts: [Host], playbook: Playbook, target: Version, overrides: [String: VarValue] = [:],
        executor: any RemoteExecutor, forks: Int,
        timeout: Duration = defaultTimeout
    ) async -> [String: ObservedVersion] {
        let results = await FanOut.map(hosts, forks: forks) { host -> ObservedVersion in
            let command: RemoteCommand
            do {
                command = try Self.command(for: host, playbook: playbook, target: target, overrides: overrides, timeout: timeout)
            } catch {
                return .failed((error as? PathError)?.message ?? "\(error)")
            }
            do {
                try Task.checkCancellation()
                return version(in: try await executor.run(command, on: host), pattern: playbook.version.pattern)
            } catch let e as RemoteError {
                return .failed("\(e.kind.rawValue): \(e.message)")
            } catch {
                return .failed("not read: fleetup was interrupted")
            }
        }
        var out: [String: ObservedVersion] = [:]
        for (host, r) in zip(hosts, results) { out[host.name] = r ?? .failed("not read: fleetup was interrupted") }
        return out
    }

    private static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        if line.isEmpty { return "(nothing)" }
        return "\"" + (line.count > 80 ? String(line.prefix(80)) + "…" : line) + "\""
    }
}
