import ArgumentParser
import Foundation
import Testing

@testable import FleetCLI

/// docs/cli.md against the commands themselves: every command has its row, every exit code
/// the table gives is one its `--help` states, and every `--json` it claims is a real flag.
@Suite("docs/cli.md: one row per command, true to the commands")
struct CLIDocsTests {
    struct Row {
        var command: String
        var codes: [Int: String]
        var json: String
    }

    static let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/cli.md").standardized.path

    /// The exit status table: `| \`command\` | 0 | 1 | 2 | 3 | --json |`.
    static func rows() throws -> [Row] {
        let text = try String(contentsOfFile: doc, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> Row? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 8, cells[1].hasPrefix("`"), cells[1].hasSuffix("`") else { return nil }
            var codes: [Int: String] = [:]
            for code in 0...3 where cells[2 + code] != "–" { codes[code] = cells[2 + code] }
            return Row(command: String(cells[1].dropFirst().dropLast()), codes: codes, json: cells[6])
        }
    }

    /// Every command that runs (leaves of the tree), by its path: `lock status`.
    static func commands() -> [(String, ParsableCommand.Type)] {
        func walk(_ type: ParsableCommand.Type, _ path: [String]) -> [(String, ParsableCommand.Type)] {
            let subs = type.configuration.subcommands
            if subs.isEmpty { return [(path.joined(separator: " "), type)] }
            return subs.flatMap { walk($0, path + [$0.configuration.commandName ?? "?"]) }
        }
        return walk(Fleetup.self, [])
    }

    @Test("every command has a row, and every row a command")
    func everyCommand() throws {
        let rows = try Self.rows()
        let names = Self.commands().map(\.0)
        #expect(names.count >= 14)
        #expect(Set(rows.map(\.command)) == Set(names), "rows: \(rows.map(\.command)), commands: \(names)")
    }

    @Test("each exit code of the table is one the command's help states; each --json is a flag it has")
    func rowsAreTrue() throws {
        let byName = Dictionary(uniqueKeysWithValues: Self.commands())
        for row in try Self.rows() {
            let type = try #require(byName[row.command], "\(row.command)")
            let discussion = type.configuration.discussion
            let stated = try #require(discussion.range(of: "Exit status").map { String(discussion[$0.lowerBound...]) }, "\(row.command)")
            for code in row.codes.keys {
                #expect(stated.contains("\(code)"), "\(row.command): exit \(code) is not in its help: \(stated)")
            }
            for code in 0...3 where row.codes[code] == nil && code != 0 {
                // A code the table says is never used must not be promised by the help either.
                #expect(!stated.contains(" \(code) "), "\(row.command): the help states exit \(code), the table does not")
            }
            let help = Fleetup.helpMessage(for: type)
            if row.json.hasPrefix("`fleetup.") {
                #expect(help.contains("--json"), "\(row.command) has no --json")
            } else if row.json == "–" {
                #expect(!help.contains("--json"), "\(row.command) has --json, the table says it has none")
            }
        }
    }
}
