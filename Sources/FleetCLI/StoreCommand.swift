import ArgumentParser
import FleetPostgres
import Foundation

/// `fleetup store init --store URL`: a team's shared PostgreSQL store, made ready (issue 14;
/// docs/store.md).
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Prepare a shared PostgreSQL store for runs, journals, locks and approvals.",
        discussion: """
            The state folder (--state-dir) is the default store. A team shares one PostgreSQL \
            instead: `fleetup store init --store postgres://USER:PASSWORD@HOST/DB` creates fleetup's \
            tables there (or migrates an older fleetup's), once, safely from several machines at \
            once; a schema newer than this fleetup is refused. See docs/store.md.
            """,
        subcommands: [Init.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create or migrate fleetup's tables in a PostgreSQL store (idempotent).",
            discussion:
                "Exit status: 0 created or migrated, 2 no store given or a schema newer than this fleetup, 3 the store cannot be reached.")

        @OptionGroup var target: StoreOptions

        func run() async throws {
            guard let url = try target.postgres() else {
                throw ValidationError("no store given: --store postgres://USER@HOST/DB, or FLEETUP_STORE")
            }
            let db = try await PGConnection.connect(url)
            let outcome: StoreSchema.Outcome
            do {
                outcome = try await StoreSchema.initialize(
                    db, by: "\(ProcessInfo.processInfo.userName)@\(ProcessInfo.processInfo.hostName)")
                await db.close()
            } catch let mismatch as StoreSchema.Mismatch {
                await db.close()
                throw ValidationError(mismatch.description)
            } catch {
                await db.close()
                throw error
            }
            switch outcome {
            case .created(let v):
                FileHandle.standardOutput.write(Data("store \(url): fleetup's tables created (schema version \(v))\n".utf8))
            case .migrated(let from, let to):
                FileHandle.standardOutput.write(Data("store \(url): schema migrated from version \(from) to \(to)\n".utf8))
            case .current(let v):
                FileHandle.standardOutput.write(Data("store \(url): already at schema version \(v); nothing to do\n".utf8))
            }
        }
    }
}
