import FleetCore
