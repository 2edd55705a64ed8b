import ArgumentParser

/// The `fleetup` command: one subcommand per file.
public struct Fleetup: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fleetup",
        abstract: "Upgrade fleets of servers safely, in rolling batches over SSH."
    )
    public init() {}
}
