import Foundation

/// The namespaces of a namespaced fleet beyond each host's own: the back-end network (a
/// bridge in a namespace of its own, with a second veth per host, docs/architecture.md)
/// when the fleet has a database host or a bastion, the database host's account per host,
/// and the bastion: one more host, the only one reachable both from the machine and on the
/// back end, through which the hosts of `FleetSpec.bastionGroup` — on the back end only —
/// are reached (ProxyJump).
struct Network {
    var backEnd: String?
    var database: DatabaseHost?
    var bastion: FleetHost?

    /// Makes the hosts' namespaces (and the bastion's) and the back end; on a failure,
    /// removes what it made.
    mutating func make(for hosts: inout [FleetHost], spec: FleetSpec, directory: String, owner: pid_t?) throws {
        var tag = String(UInt16.random(in: 0x1000...0xffff), radix: 16)
        var servers = hosts
        if spec.bastionGroup != nil {
            servers.append(
                FleetHost(
                    name: "bastion", group: "bastion", sshPort: 22, appPort: FleetSpec.Layout.plain.port, root: "\(directory)/bastion",
                    app: FleetSpec.Layout.plain.app, layout: .plain))
        }
        var slots: [Namespaces.Slot]?
        for attempt in 1...10 where slots == nil {
            do {
                slots = try Namespaces.create(count: servers.count, tag: tag, owner: owner)
            } catch is Namespaces.TagTaken where attempt < 10 {
                tag = String(UInt16.random(in: 0x1000...0xffff), radix: 16)
            }
        }
        for (i, slot) in (slots ?? []).enumerated() { servers[i].namespace = slot }
        do {
            guard spec.database || spec.bastionGroup != nil else {
                hosts = servers
                return
            }
            let back = "\(Namespaces.prefix)\(owner.map { String($0) } ?? "cli")-\(tag)-back"
            try Namespaces.createBackEnd(
                netns: back, routerAddress: DatabaseHost.address, members: servers.compactMap(\.namespace),
                memberAddress: DatabaseHost.hostAddress)
            backEnd = back
            for i in servers.indices {
                servers[i].namespace?.backAddress = DatabaseHost.hostAddress(i)
                // Behind the bastion: no link to the machine, sshd on the back-end address.
                if let group = spec.bastionGroup, servers[i].group == group, let slot = servers[i].namespace {
                    try Namespaces.unlinkFromMachine(slot)
                    servers[i].namespace?.hidden = true
                }
            }
            if spec.database {
                database = DatabaseHost(netns: back, root: "\(directory)/db")
                let password = (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
                for i in servers.indices where servers[i].group != "bastion" {
                    servers[i].database = DatabaseHost.account(for: servers[i].name, password: password)
                }
            }
        } catch {
            for netns in servers.compactMap(\.netns) + [backEnd].compactMap({ $0 }) { Namespaces.remove(netns) }
            throw error
        }
        if spec.bastionGroup != nil { bastion = servers.removeLast() }
        hosts = servers
    }
}
