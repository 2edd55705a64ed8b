import FleetCore
import Foundation
import Testing

import struct FleetCore.Host

@testable import FleetSSH

/// Every `ssh-config` block of docs/ssh.md reads without a problem or a warning, and its
/// `# check:` lines resolve as `ssh -G` resolves them.
@Suite("docs/ssh.md examples")
struct SSHConfigDocsTests {
    static let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/ssh.md")

    static var blocks: [String] {
        let text = (try? String(contentsOf: doc, encoding: .utf8)) ?? ""
        return text.components(separatedBy: "```ssh-config\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
    }

    @Test("the page has examples")
    func present() { #expect(!Self.blocks.isEmpty) }

    @Test("each example reads cleanly and resolves as ssh -G does")
    func examples() async throws {
        for (i, block) in Self.blocks.enumerated() {
            let path = NSTemporaryDirectory() + "fleetup-sshdoc-\(getpid())-\(i).conf"
            try block.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let resolver = try SSHConfigResolver(files: .file(path))
            #expect(resolver.warnings.isEmpty)
            let checks = block.split(separator: "\n").filter { $0.hasPrefix("# check:") }
            #expect(!checks.isEmpty, "example \(i + 1) has no # check: line")
            guard SSHG.ssh != nil else { continue }
            for check in checks {
                let words = try Shlex.split(String(check.dropFirst(8)), comments: false)
                let vars = words.dropFirst().compactMap { w -> (name: String, value: String)? in
                    w.firstIndex(of: "=").map { (String(w[..<$0]), String(w[w.index(after: $0)...])) }
                }
                let c = SSHG.Case(file: "", line: 0, destination: words[0], vars: vars)
                let (target, hops) = try resolver.options(for: c.host)
                SSHG.compare(
                    SSHG.fields(target, resolver), try await SSHG.run(["-F", path] + c.sshArguments + [target.hostArgument]),
                    "docs example \(i + 1): \(check)")
                for hop in hops where hop.before.isEmpty {
                    SSHG.compare(
                        SSHG.fields(hop.result, resolver), try await SSHG.run(["-F", path, hop.hop.host]),
                        "docs example \(i + 1): \(check), hop \(hop.hop)")
                }
            }
        }
    }
}
