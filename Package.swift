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
        // libpq from the system (Debian: libpq-dev), for the PostgreSQL store; only
        // FleetPostgres/PGConnection.swift imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // OpenSSL's libcrypto (Debian: libssl-dev, which libssh2-1-dev already pulls in), for
        // ansible-vault; only FleetVault/VaultCipher.swift imports it.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // epoll and eventfd for the reactor (Swift's Glibc module lacks them).
        .systemLibrary(name: "CFleetPosix"),
        // Values and seams: the standard library only.
        .target(name: "FleetCore"),
        // This machine: local processes (posix_spawn, waited for off the cooperative pool),
        // blocking work on threads of its own, one parallel map, bounded reads of input files.
        .target(name: "FleetLocal"),
        // ansible-vault: vault text opened with the passwords of files, scripts and vault ids.
        .target(name: "FleetVault", dependencies: ["FleetLocal", "CLibCrypto"]),
        // Inventory and playbook loading and validation.
        .target(name: "FleetConfig", dependencies: ["FleetCore", "FleetLocal", "FleetVault", "Yams"]),
        // The libssh2 executor.
        .target(name: "FleetSSH", dependencies: ["FleetCore", "FleetLocal", "CLibSSH2", "CFleetPosix"]),
        // Pure planners and the coordinator; never imports FleetSSH (the CLI wires them).
        .target(name: "FleetRollout", dependencies: ["FleetCore"]),
        // Renderers of runs and statuses (text, JSON, Markdown, HTML, JUnit): values in,
        // bytes out (FleetStore writes them).
        .target(name: "FleetReports", dependencies: ["FleetCore"]),
        // The state folder: runs (their journals and reports) and the fleet lock.
        .target(name: "FleetStore", dependencies: ["FleetCore", "FleetLocal"]),
        // The PostgreSQL store (issue 14): a libpq connection on a thread of its own, the
        // versioned schema.
        .target(name: "FleetPostgres", dependencies: ["FleetCore", "FleetLocal", "FleetStore", "CLibPQ"]),
        // What a plan or a run starts from, value in, value out: files loaded and checked
        // together, the target, the plan, the fleet and its lock host.
        .target(name: "FleetPrepare", dependencies: ["FleetCore", "FleetConfig", "FleetRollout", "FleetStore", "FleetVault"]),
        // One file per subcommand.
        .target(
            name: "FleetCLI",
            dependencies: [
                "FleetCore", "FleetConfig", "FleetLocal", "FleetSSH", "FleetRollout", "FleetReports", "FleetStore", "FleetPrepare",
                "FleetPostgres", "FleetVault", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "fleetup", dependencies: ["FleetCLI"]),
        // What unit tests need, pure (no libssh2): scripted executor, manual clock, recording
        // sink, sample records, golden files.
        .target(name: "FleetTestSupport", dependencies: ["FleetCore", "FleetLocal"]),
        // The local test fleet: real sshd hosts on 127.0.0.1, their layouts and processes.
        .target(name: "FleetTestFleet", dependencies: ["FleetCore", "FleetLocal", "FleetSSH"]),
        // `scripts/fleet` drives the same fleet code the tests use.
        .executableTarget(name: "testfleet", dependencies: ["FleetTestFleet"]),
        // The fake showcase app installed on every test host (no Foundation: starts fast, small).
        .executableTarget(name: "fleet-fakeapp"),
        // scripts/fuzz: a fuzzing campaign against the built fleetup.
        .executableTarget(name: "fleet-fuzz", dependencies: ["FleetLocal"]),
        // scripts/bench scale: a whole run without SSH (fleetup's own cost, issue 17).
        .executableTarget(
            name: "fleet-bench-run", dependencies: ["FleetCLI", "FleetConfig", "FleetCore", "FleetReports", "FleetRollout", "FleetStore"]),

        .testTarget(name: "FleetCoreTests", dependencies: ["FleetCore", "FleetTestSupport"]),
        .testTarget(name: "FleetLocalTests", dependencies: ["FleetLocal"]),
        .testTarget(
            name: "FleetConfigTests", dependencies: ["FleetConfig", "FleetCore", "FleetLocal", "FleetVault", "FleetTestSupport"],
            exclude: ["regenerate.sh"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FleetSSHTests", dependencies: ["FleetSSH", "FleetCore", "FleetLocal"], exclude: ["Fixtures"]),
        .testTarget(name: "FleetRolloutTests", dependencies: ["FleetRollout", "FleetCore", "FleetTestSupport"]),
        .testTarget(
            name: "FleetReportsTests", dependencies: ["FleetReports", "FleetCore", "FleetStore", "FleetLocal", "FleetTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "FleetStoreTests", dependencies: ["FleetStore", "FleetCore", "FleetLocal", "FleetTestFleet", "FleetTestSupport"]),
        .testTarget(
            name: "FleetPostgresTests",
            dependencies: ["FleetPostgres", "FleetTestFleet", "FleetLocal", "FleetCore", "FleetStore", "FleetTestSupport"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "FleetSSH", "FleetCore", "FleetConfig", "FleetLocal", "FleetTestSupport", "FleetTestFleet", "FleetCLI", "FleetStore",
                "FleetReports", .product(name: "Yams", package: "Yams"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
