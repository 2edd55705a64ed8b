import ArgumentParser
import FleetConfig
import FleetCore
import FleetPostgres
import FleetStore
import Foundation

/// The `fleetup` command: one subcommand per file.
public struct Fleetup: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fleetup",
        abstract: "Upgrade fleets of servers safely, in rolling batches over SSH.",
        version: "0.1.0",
        subcommands: [
            ExecCommand.self, InventoryCommand.self, CheckCommand.self, PlanCommand.self,
            PingCommand.self, StatusCommand.self, RunCommand.self, ResumeCommand.self, LockCommand.self, ReportCommand.self,
            RunsCommand.self, ApproveCommand.self, StoreCommand.self,
        ]
    )
    public init() {}

    /// Parses the command line, runs the subcommand, and exits with fleetup's codes:
    /// 0 success, 1 failed or halted, 2 bad input, 3 could not start.
    public static func runMain() async -> Never {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success { Self.exit(withError: error) }  // --help, --version
            // Usage errors are bad input: exit 2, not ArgumentParser's 64; one line, as every
            // error of fleetup's (docs/cli.md).
            FileHandle.standardError.write(Data((usageLine(fullMessage(for: error)) + "\n").utf8))
            terminate(2)
        }
        do {
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            terminate(0)
        } catch let error as ExitCode {
            terminate(error.rawValue)
        } catch let error as ConfigError {
            fail("\(error)", code: 2)
        } catch let error as ConfigErrors {
            fail("\(error)", code: 2)
        } catch let error as ValidationError {
            fail("\(error)", code: 2)
        } catch let error as StartRefusal {
            fail("\(error)", code: 3)
        } catch let error as StoreError {
            // A run that cannot be found or read back (a corrupt journal): bad input; the
            // state folder not writable: the run could not start.
            fail("\(error)", code: error.kind == .io ? 3 : 2)
        } catch let error as PGConnection.Failure {
            // The store cannot be reached or refused a statement: nothing could start.
            fail("store: \(error)", code: 3)
        } catch let error as LockError {
            // The fleet's lock: held or unreadable means the run could not start.
            if case .badLockHost = error { fail("\(error)", code: 2) }
            fail("\(error)", code: 3)
        } catch {
            // `fleetup` alone (and ArgumentParser's own help paths) end here as "help requested".
            if exitCode(for: error) == .success { Self.exit(withError: error) }
            fail("\(error)", code: 1)
        }
    }

    /// ArgumentParser's usage error (`Error: …`, `Help: …`, `Usage: …`, `See 'fleetup run
    /// --help' …`) as one line: `fleetup: missing expected argument '<playbook>' (see
    /// 'fleetup run --help')`.
    static func usageLine(_ full: String) -> String {
        let lines = full.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var problem = lines.first ?? "bad command line"
        if problem.hasPrefix("Error: ") { problem.removeFirst("Error: ".count) }
        if let first = problem.first, first.isUppercase, problem.dropFirst().first?.isLowercase == true {
            problem = first.lowercased() + problem.dropFirst()
        }
        let see = lines.first { $0.hasPrefix("See '") }.flatMap { line -> String? in
            guard let open = line.firstIndex(of: "'"), let close = line[line.index(after: open)...].firstIndex(of: "'") else { return nil }
            return String(line[open...close])
        }
        return "fleetup: " + problem + (see.map { " (see \($0))" } ?? "")
    }

    /// Ends the process. Not `exit`: its stdio clean-up walks every stream, stdin included,
    /// which a thread still blocked reading the terminal holds (a gate's y/N prompt that an
    /// approval from elsewhere answered first); glibc versions differ in whether that waits.
    /// fleetup writes its output with FileHandle (unbuffered), never with stdio's `print`,
    /// so `_exit` loses nothing.
    static func terminate(_ code: Int32) -> Never {
        _exit(code)
    }

    static func fail(_ message: String, code: Int32) -> Never {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map { "fleetup: \($0)" }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        terminate(code)
    }
}
