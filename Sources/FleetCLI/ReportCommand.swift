import ArgumentParser
import FleetCore
import FleetPostgres
import FleetReports
import FleetStore
import Foundation

extension RunReportFormat: ExpressibleByArgument {}

/// `fleetup report RUN --format json|md|html|junit`: a stored run's report, rendered again
/// from its journal (so it is the same whether the run finished, halted or was killed).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a stored run's report again from its journal.",
        discussion: """
            RUN is a run id, a prefix only one run has, or `latest` (see `fleetup runs`). The report \
            is written to standard output in one format, or with --output DIR as all four files \
            (run.json, report.md, report.html, report.junit.xml). Formats: docs/reports.md. \
            Exit status: 0, or 2 when the run cannot be found, its journal cannot be read, or the \
            --output folder cannot be made or written, 3 when the store cannot be reached.
            """)

    @Argument(help: ArgumentHelp("The run: its id, a prefix only it has, or `latest`.", valueName: "run"))
    var runName: String

    @Option(
        help: ArgumentHelp(
            "json (fleetup.run/2), md (for a chat or a ticket), html (one self-contained page) or junit.",
            valueName: "format"))
    var format: RunReportFormat?

    @Option(help: ArgumentHelp("Write all four reports into this folder (created if missing) instead.", valueName: "dir"))
    var output: String?

    @Flag(help: "The JSON report (fleetup.run/2): the same as --format json.")
    var json = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if format != nil && output != nil {
            throw ValidationError("--format and --output do not go together: --output writes all four formats")
        }
        if json && (output != nil || (format != nil && format != .json)) {
            throw ValidationError("--json is --format json: it goes with neither --output nor another --format")
        }
    }

    func run() async throws {
        let stored = await StoredRuns.load(runName, from: store)
        if stored.droppedTornLine {
            FileHandle.standardError.write(
                Data("fleetup: warning: \(stored.journalText): its last line was torn (a crash mid-write) and is left out\n".utf8))
        }
        for gap in stored.gaps {
            FileHandle.standardError.write(Data("fleetup: warning: \(gap): \(StoredRuns.incomplete)\n".utf8))
        }
        if let output {
            let paths: [String]
            // The folder is the operator's input: one that cannot be made or written is bad input.
            do { paths = try StoreFile.write(RunReports.files(stored.record), into: output) } catch {
                Fleetup.fail("--output: \(error)", code: 2)
            }
            FileHandle.standardOutput.write(Data(paths.map { $0 + "\n" }.joined().utf8))
            return
        }
        FileHandle.standardOutput.write(Data(RunReports.render(stored.record, json ? .json : format ?? .markdown).utf8))
    }
}

/// Reading stored runs for the commands that show them.
enum StoredRuns {
    /// The run `name` names, read and folded; a run that cannot be found or read ends
    /// fleetup with its reason (`path:line: …`) and exit status 2.
    static func load(_ name: String, from store: StoreOptions) async -> LoadedRun {
        do { return try await store.load(name) } catch let error as PGConnection.Failure {
            Fleetup.fail("store: \(error)", code: 3)
        } catch {
            Fleetup.fail("\(error)", code: 2)
        }
    }

    /// What a journal with missing entries means for what is shown from it.
    static let incomplete = "the report shows only what the journal holds, so hosts may have got further than it says"

    /// Whether the run still holds its fleet's lock: in the store, a live session; in the
    /// state folder, its process on this machine.
    static func isRunning(_ record: RunRecord, store: StoreOptions) async -> Bool {
        guard let url = try? store.postgres() else { return isRunning(record, store: store.store) }
        guard let hex = record.header.fleetKey else { return false }
        let lock = PostgresFleetLock(url: url, key: FleetKey(hex: hex, label: record.header.playbook))
        guard let (state, stale) = try? await lock.status(), case .held(let owner) = state else { return false }
        return owner.runID == record.header.id && !stale
    }

    /// Whether the run's process still holds its fleet's lock on this machine.
    static func isRunning(_ record: RunRecord, store: RunStore) -> Bool {
        guard let hex = record.header.fleetKey else { return false }
        let key = FleetKey(hex: hex, label: record.header.playbook)
        guard case .held(let owner)? = try? LocalLock(store: store, key: key).holder() else { return false }
        return owner.runID == record.header.id && !owner.isStale()
    }
}
