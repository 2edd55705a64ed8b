import ArgumentParser
import FleetCore
import FleetPostgres
import FleetReports
import FleetStore
import Foundation

/// `fleetup runs`: the stored runs, newest first, with how each ended.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the stored runs: id, start, playbook, target, outcome, hosts by outcome.",
        discussion: """
            Newest first. A run whose journal has no end is `running` while its process still holds \
            the fleet's lock on this machine, else `unfinished` (`fleetup resume` goes on with it). A \
            journal that cannot be read is listed as `unreadable`, its reason on standard error. \
            --json writes fleetup.runs/1 (docs/reports.md). Exit status: 0, 2 for bad input, 3 \
            when the store cannot be reached.
            """)

    @Flag(help: "Write fleetup.runs/1 JSON.")
    var json = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var colors: ColorOptions

    func run() async throws {
        let ids: [String]
        do { ids = try await store.runIDs() } catch let error as PGConnection.Failure {
            Fleetup.fail("store: \(error)", code: 3)
        } catch { Fleetup.fail("\(error)", code: 2) }
        var runs: [RunListing] = []
        for id in ids {
            do {
                let stored = try await store.load(id)
                let record = stored.record
                // Shown as far as the journal goes, and said to be incomplete.
                let missing =
                    stored.gaps.isEmpty ? nil : "journal entries " + stored.gaps.map(\.missingText).joined(separator: ", ") + " missing"
                for gap in stored.gaps {
                    FileHandle.standardError.write(Data("fleetup: warning: \(gap): the run is listed as far as the journal goes\n".utf8))
                }
                runs.append(
                    RunListing(
                        id: id, record: record, running: await StoredRuns.isRunning(record, store: store),
                        warning: missing))
            } catch {
                FileHandle.standardError.write(Data("fleetup: warning: \(error)\n".utf8))
                runs.append(RunListing(id: id, record: nil, problem: "\(error)"))
            }
        }
        FileHandle.standardOutput.write(
            Data((json ? RunList.json(runs) : RunList.text(runs, style: colors.style(for: STDOUT_FILENO))).utf8))
    }
}
