// `scripts/fleet` runs this: the local test fleet from the shell, through the same code
// the tests use (FleetTestSupport.TestFleet).
import FleetTestFleet
import Foundation

let usage = """
    usage: testfleet up N [--dir DIR] [--groups g1=N1,g2=N2] [--layout plain|mattermost|flow] [--app NAME]
                       [--versions V1,V2] [--start-apps] [--namespaces [--database] [--bastion GROUP]] --fakeapp PATH
           testfleet down [--dir DIR] [--keep]
           testfleet show [--dir DIR]
           testfleet can-namespace                    exit 0 when namespaced hosts can be made here
           testfleet releases [DIR] [VERSION...]      the fake Mattermost archives (DIR: .fleet/releases)
           testfleet receive --log FILE               a webhook receiver on 127.0.0.1: prints its port, then
                                                      appends each POST's body to FILE until SIGTERM
    """

func die(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("testfleet: \(message)\n".utf8))
    exit(code)
}

var args = Array(CommandLine.arguments.dropFirst())
guard let verb = args.first else { die(usage) }
args.removeFirst()
var options: [String: String] = [:]
var flags = Set<String>()
var positional: [String] = []
var i = 0
while i < args.count {
    let a = args[i]
    if ["--start-apps", "--keep", "--namespaces", "--database"].contains(a) {
        flags.insert(a)
    } else if a.hasPrefix("--") {
        guard i + 1 < args.count else { die("\(a) needs a value\n\(usage)") }
        options[a] = args[i + 1]
        i += 1
    } else {
        positional.append(a)
    }
    i += 1
}
let dir = options["--dir"] ?? FileManager.default.currentDirectoryPath + "/.fleet/default"

do {
    switch verb {
    case "up":
        var groups: [FleetSpec.Group] = []
        if let g = options["--groups"] {
            for part in g.split(separator: ",") {
                let kv = part.split(separator: "=")
                guard kv.count == 2, let n = Int(kv[1]), n > 0 else { die("bad --groups entry \"\(part)\": expected NAME=COUNT") }
                groups.append(.init(String(kv[0]), n))
            }
        } else {
            guard let n = positional.first.flatMap({ Int($0) }), n > 0 else { die("up needs a host count\n\(usage)") }
            groups = [.init("fleet", n)]
        }
        guard let fakeApp = options["--fakeapp"] else { die("up needs --fakeapp PATH") }
        let layoutName = options["--layout"] ?? "plain"
        guard let layout = FleetSpec.Layout(rawValue: layoutName) else {
            die("bad --layout \"\(layoutName)\": expected \(FleetSpec.Layout.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let versions = options["--versions"].map { $0.split(separator: ",").map(String.init) } ?? []
        var spec = FleetSpec(groups: groups, layout: layout, versions: versions, startApps: flags.contains("--start-apps"))
        spec.namespaces = flags.contains("--namespaces")
        spec.database = flags.contains("--database")
        spec.bastionGroup = options["--bastion"]
        if let app = options["--app"] {
            guard layout == .plain || app == layout.app else { die("--app \(app): the \(layout) layout's app is \(layout.app)") }
            spec.app = app
        }
        let start = Date()
        let fleet = try TestFleet.up(spec, in: dir, fakeApp: fakeApp)
        print("fleet up: \(fleet.hosts.count) hosts in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        print("  inventory:   \(fleet.inventoryPath)")
        print("  known_hosts: \(fleet.knownHosts)")
        print("  client key:  \(fleet.clientKey)")
        if let bastion = fleet.bastion {
            let behind = fleet.hosts.filter(\.behindBastion).map(\.name)
            print("  bastion:     \(bastion.address) (ssh_config \(fleet.sshConfig)); behind it: \(behind.joined(separator: ", "))")
        }
        if let db = fleet.database {
            print("  database:    PostgreSQL on \(DatabaseHost.address):\(DatabaseHost.port) (netns \(db.netns)), one database per host")
        }
    case "can-namespace":
        // Exit 0 when namespaced hosts can be made here (scripts/demo asks).
        exit(Namespaces.available ? 0 : 1)
    case "down":
        let fleet = try TestFleet.attach(dir)
        try fleet.down(keepFiles: flags.contains("--keep"))
        print("fleet down: \(fleet.hosts.count) hosts stopped")
    case "releases":
        let out = positional.first ?? FileManager.default.currentDirectoryPath + "/.fleet/releases"
        let versions = positional.dropFirst().isEmpty ? FakeReleases.mattermostVersions : Array(positional.dropFirst())
        for path in try FakeReleases.writeMattermostArchives(versions, in: out) { print(path) }
    case "receive":
        guard let log = options["--log"] else { die("receive needs --log FILE\n\(usage)") }
        FileManager.default.createFile(atPath: log, contents: nil)
        // Each request's body appended before it is answered: once fleetup's post is done,
        // the log has it.
        let receiver = try WebhookReceiver { request in
            guard let out = FileHandle(forWritingAtPath: log) else { return }
            out.seekToEndOfFile()
            out.write(Data((request.body + "\n").utf8))
            try? out.close()
        }
        FileHandle.standardOutput.write(Data("\(receiver.port)\n".utf8))
        signal(SIGTERM) { _ in exit(0) }
        while true { pause() }
    case "show":
        let fleet = try TestFleet.attach(dir)
        for h in fleet.hosts {
            let netns = h.netns.map { "\tnetns \($0)" } ?? ""
            print("\(h.name)\t\(h.group)\tssh \(h.address):\(h.sshPort)\tapp 127.0.0.1:\(h.appPort)\t\(h.root)\(netns)")
        }
    default:
        die(usage)
    }
} catch {
    die("\(error)", code: 1)
}
