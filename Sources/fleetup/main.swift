import FleetCLI

await Fleetup.main()
