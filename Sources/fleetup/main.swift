import FleetCLI

await Fleetup.runMain()
