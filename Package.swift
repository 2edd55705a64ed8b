// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "fleetup",
    products: [
        .executable(name: "fleetup", targets: ["fleetup"]),
        .executable(name: "testfleet", targets: ["testfleet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libssh2 from the system (Debian: libssh2-1-dev); only FleetSSH/LibSSH2/ imports it.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // epoll and eventfd for the reactor (Swift's Glibc module lacks them).
        .systemLibrary(name: "CFleetPosix"),
        // Values and seams, Foundation only.
        .target(name: "FleetCore"),
        // Inventory and playbook loading and validation.
        .target(name: "FleetConfig", dependencies: ["FleetCore", "Yams"]),
        // The libssh2 executor.
        .target(name: "FleetSSH", dependencies: ["FleetCore", "CLibSSH2", "CFleetPosix"]),
        // Pure planners and the coordinator; never imports FleetSSH (the CLI wires them).
        .target(name: "FleetRollout", dependencies: ["FleetCore"]),
        // Renderers of runs and statuses (text, JSON, Markdown, HTML, JUnit); writes a run's
        // reports into its run folder (FleetStore).
        .target(name: "FleetReports", dependencies: ["FleetCore", "FleetStore"]),
        // The state folder: runs (their journals and reports) and the fleet lock.
        .target(name: "FleetStore", dependencies: ["FleetCore"]),
        // One file per subcommand.
        .target(name: "FleetCLI", dependencies: [
            "FleetCore", "FleetConfig", "FleetSSH", "FleetRollout", "FleetReports", "FleetStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "fleetup", dependencies: ["FleetCLI"]),
        // Scripted executor, manual clock, the local test fleet.
        .target(name: "FleetTestSupport", dependencies: ["FleetCore", "FleetSSH"]),
        // `scripts/fleet` drives the same fleet code the tests use.
        .executableTarget(name: "testfleet", dependencies: ["FleetTestSupport"]),
        // The fake showcase app installed on every test host (no Foundation: starts fast, small).
        .executableTarget(name: "fleet-fakeapp"),
        // scripts/fuzz: a fuzzing campaign against the built fleetup (Foundation only).
        .executableTarget(name: "fleet-fuzz"),

        .testTarget(name: "FleetCoreTests", dependencies: ["FleetCore", "FleetTestSupport"]),
        .testTarget(name: "FleetConfigTests", dependencies: ["FleetConfig", "FleetCore"],
                    exclude: ["regenerate.sh"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FleetSSHTests", dependencies: ["FleetSSH", "FleetCore"], exclude: ["Fixtures"]),
        .testTarget(name: "FleetRolloutTests", dependencies: ["FleetRollout", "FleetCore", "FleetTestSupport"]),
        .testTarget(name: "FleetReportsTests", dependencies: ["FleetReports", "FleetCore", "FleetStore", "FleetTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "FleetStoreTests", dependencies: ["FleetStore", "FleetCore"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "FleetSSH", "FleetCore", "FleetConfig", "FleetTestSupport", "FleetCLI", "FleetStore",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
