import ArgumentParser
import FleetCore
import FleetPostgres
import FleetPrepare
import FleetReports
import FleetSSH
import FleetStore
import Foundation

/// `fleetup lock status|release PLAYBOOK -i INV…`: who holds a fleet's lock, and removing
/// it (with a record) when its run is gone.
struct LockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Show who holds a fleet's lock, or force-release it.",
        discussion: """
            A fleet (the hosts of a playbook's plan) is upgraded by one run at a time: `fleetup run` \
            holds the fleet's lock on this machine (in the state folder) and on the lock host (the \
            inventory's fleetup_lock_host, else the first host of the playbook's plan), so two \
            operators on two machines exclude each other; and each host's own lock while it works \
            on that host, so two runs never upgrade one host at once. See docs/runs.md.
            """,
        subcommands: [Status.self, Release.self])

    /// The arguments both subcommands take.
    struct Target: ParsableArguments {
        @Argument(help: ArgumentHelp("The playbook file (YAML).", valueName: "playbook"))
        var playbook: String

        @OptionGroup var inventory: InventoryOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var store: StoreOptions

        func validate() throws {
            if inventory.limit != nil {
                throw ValidationError("--limit does not apply: a lock is the whole fleet's (the playbook with its inventories)")
            }
        }

        /// The fleet's lock, with an SSH executor for the lock host and every host of the
        /// plan (their host locks); shut it down after.
        func lock() throws -> (FleetTarget, FleetLock, SSHExecutor?) {
            let (target, warnings) = try FleetTarget.resolve(
                playbook: playbook, inventories: inventory.inventories, vault: try inventory.vault.keyring())
            RunSession.warn(warnings)
            var executor: SSHExecutor?
            var hosts = target.hosts
            if let host = target.lockHost, !hosts.contains(where: { $0.name == host.name }) { hosts.append(host) }
            if !hosts.isEmpty {
                executor = try SSHExecutor(
                    connection.sshConfiguration(for: hosts, inventory: inventory.inventories.joined(separator: ", ")))
            }
            return (target, target.lock(store: store.store, executor: executor), executor)
        }

        /// Every host lock of the fleet's hosts, asked (or force-released).
        func hostLocks(_ target: FleetTarget, executor: SSHExecutor?, release: Bool) async -> HostLockSurvey {
            guard let executor else { return HostLockSurvey() }
            return await HostLockSurvey.take(target.hosts, executor: executor, forks: connection.forks, release: release)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show who holds the fleet's lock, here and on the lock host.",
            discussion: "Exit status: 0 when the lock is free, 1 when it is held, 2 for bad input, 3 when the lock host could not be asked."
        )

        @OptionGroup var target: Target

        @Flag(help: "Print the locks as JSON (fleetup.lock/1).")
        var json = false

        func run() async throws {
            if let url = try target.store.postgres() { return try await storeStatus(url) }
            let (fleet, lock, executor) = try target.lock()
            let status = await lock.status()
            let hostLocks = await target.hostLocks(fleet, executor: executor, release: false)
            await executor?.shutdown()
            var lines = [
                "fleet \(fleet.key.label) (key \(fleet.key.hex))",
                "  local \(lock.local.path): \(status.local.statusText())",
            ]
            if let remote = lock.remote {
                lines.append(
                    "  lock host \(remote.place): "
                        + (status.remoteError.map { "not asked: \($0)" } ?? (status.remote ?? .free).statusText()))
            } else {
                lines.append("  lock host: none (the plan has no hosts)")
            }
            lines += hostLocks.lines(released: false)
            if json {
                var places: [(String, JSON)] = [
                    (
                        "local",
                        .object([
                            ("path", .string(lock.local.path)), ("free", .bool(status.local.isFree)),
                            ("state", .string(status.local.statusText())),
                        ])
                    )
                ]
                if let remote = lock.remote {
                    let state = status.remote ?? .free
                    places.append(
                        (
                            "lock_host",
                            .object([
                                ("place", .string(remote.place)), ("free", status.remoteError == nil ? .bool(state.isFree) : .null),
                                ("state", status.remoteError == nil ? .string(state.statusText()) : .null),
                                ("error", .text(status.remoteError.map { "\($0)" })),
                            ])
                        ))
                }
                write(Self.document(fleet, places: places, hostLocks: hostLocks))
            } else {
                FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            }
            if status.isFree && hostLocks.held.isEmpty && hostLocks.unanswered.isEmpty { return }
            let held = !status.local.isFree || !(status.remote?.isFree ?? true) || !hostLocks.held.isEmpty
            throw ExitCode(held ? 1 : 3)
        }

        /// The fleet's lock in the shared store (docs/store.md), and each host's own.
        private func storeStatus(_ url: PostgresURL) async throws {
            let (fleet, _, executor) = try target.lock()
            let lock = PostgresFleetLock(url: url, key: fleet.key)
            let hostLocks = await target.hostLocks(fleet, executor: executor, release: false)
            await executor?.shutdown()
            let (state, stale) = try await lock.status()
            var lines = ["fleet \(fleet.key.label) (key \(fleet.key.hex))"]
            lines.append(
                "  store \(url): " + state.statusText()
                    + (stale ? " — its session ended (the run is gone): the next run takes it over" : ""))
            lines += hostLocks.lines(released: false)
            if json {
                let place = JSON.object([
                    ("url", .string("\(url)")), ("free", .bool(state.isFree)), ("state", .string(state.statusText())),
                    ("session_ended", .bool(stale)),
                ])
                write(Self.document(fleet, places: [("store", place)], hostLocks: hostLocks))
            } else {
                FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            }
            if state.isFree && hostLocks.held.isEmpty && hostLocks.unanswered.isEmpty { return }
            throw ExitCode(!state.isFree || !hostLocks.held.isEmpty ? 1 : 3)
        }

        private func write(_ document: JSON) { FileHandle.standardOutput.write(Data((document.render() + "\n").utf8)) }

        /// `fleetup.lock/1`: the fleet, each place its lock lives (`local`, `lock_host` or
        /// `store`), and the host locks (held ones with their holder, hosts not asked).
        static func document(_ fleet: FleetTarget, places: [(String, JSON)], hostLocks: HostLockSurvey) -> JSON {
            let held: [JSON] = hostLocks.held.map {
                .object([("host", .string($0.host)), ("state", .string($0.state.hostLockStatusText()))])
            }
            let unanswered: [JSON] = hostLocks.unanswered.map { .object([("host", .string($0.host)), ("error", .string($0.reason))]) }
            return .object(
                [("schema", .string("fleetup.lock/1")), ("fleet", .string(fleet.key.label)), ("key", .string(fleet.key.hex))] + places + [
                    ("host_locks", .object([("asked", .int(hostLocks.asked)), ("held", .array(held)), ("not_asked", .array(unanswered))]))
                ])
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "release",
            abstract: "Remove the fleet's lock whoever holds it (--force), recording who did.",
            discussion: """
                For a lock whose run is gone (a crash on another machine, a lost session). Removes \
                the lock here and on the lock host and appends a line to <state>/locks/released.log: \
                when, who, and what each lock held. Exit status: 0 when released, 2 without --force \
                or for bad input, 3 when the lock host could not be reached (the local lock is \
                released all the same).
                """)

        @OptionGroup var target: Target

        @Flag(help: "Really remove the lock, whoever holds it.")
        var force = false

        func run() async throws {
            guard force else {
                throw ValidationError(
                    """
                    lock release needs --force: it removes the fleet's lock whoever holds it, here and on \
                    the lock host, so a run that is still going would no longer keep other runs out. \
                    Check with `fleetup lock status` first; a forced release is recorded in \
                    \(target.store.store.locksFolder)/released.log
                    """)
            }
            if let url = try target.store.postgres() { return try await storeRelease(url) }
            let (fleet, lock, executor) = try target.lock()
            let hostLocks = await target.hostLocks(fleet, executor: executor, release: true)
            let released: FleetLock.ForceRelease
            do {
                released = try await lock.forceRelease(also: hostLocks.record)
                await executor?.shutdown()
            } catch {
                await executor?.shutdown()
                throw error
            }
            var lines = [
                "released the lock of fleet \(fleet.key.label) (key \(fleet.key.hex))",
                "  local: was \(released.local)",
            ]
            if let remote = lock.remote {
                lines.append(
                    "  lock host \(remote.host.name): "
                        + (released.remoteError.map { "not reached, its lock may still be held: \($0)" }
                            ?? "was \(released.remote ?? .free)"))
            }
            lines += hostLocks.lines(released: true)
            lines.append("recorded in \(lock.releasedLog)")
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            if released.remoteError != nil || !hostLocks.unanswered.isEmpty { throw ExitCode(3) }
        }

        /// Force-releases the fleet's lock in the shared store: the holding session is
        /// ended, and fleetup_lock_releases records who did it.
        private func storeRelease(_ url: PostgresURL) async throws {
            let (fleet, _, executor) = try target.lock()
            let hostLocks = await target.hostLocks(fleet, executor: executor, release: true)
            await executor?.shutdown()
            let by = "\(RunSession.user)@\(RunSession.machine) (pid \(getpid()))"
            let was = try await PostgresFleetLock(url: url, key: fleet.key).forceRelease(by: by)
            var lines = ["released the lock of fleet \(fleet.key.label) (key \(fleet.key.hex))", "  store \(url): was \(was)"]
            lines += hostLocks.lines(released: true)
            lines.append("recorded in the store's fleetup_lock_releases, by \(by)")
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            if !hostLocks.unanswered.isEmpty { throw ExitCode(3) }
        }
    }
}
