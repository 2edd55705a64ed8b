/// What a Mattermost demo host holds, and what the fake release archives hold: the files
/// playbooks/mattermost.yml backs up, replaces and puts back (with inventories/demo/mattermost.yml).
extension FleetLayout {
    /// The host's own config.json: its name and port in it, so a test can tell it from the
    /// release default after "put config.json back".
    static func mattermostConfig(_ host: FleetHost) -> String {
        """
        {
          "ServiceSettings": { "SiteURL": "http://127.0.0.1:\(host.appPort)", "ListenAddress": "127.0.0.1:\(host.appPort)" },
          "SqlSettings": \(sqlSettings(host)),
          "FileSettings": { "Directory": \(json(host.installDirOnHost + "/data/")) },
          "FleetupHost": \(json(host.name))
        }

        """
    }

    /// Where the host's data lives: its database on the fleet's PostgreSQL, or the file.
    static func sqlSettings(_ host: FleetHost) -> String {
        if let db = host.database { return "{ \"DriverName\": \"postgres\", \"DataSource\": \(json(db.url)) }" }
        return "{ \"DriverName\": \"file\", \"DataSource\": \(json(host.onHost("/var/lib/mattermost/mattermost.db"))) }"
    }

    /// The config.json a release archive ships (what a careless unpack would leave).
    static func mattermostReleaseConfig(version: String) -> String {
        """
        {
          "ServiceSettings": { "SiteURL": "", "ListenAddress": ":8065" },
          "FleetupFakeRelease": \(json(version))
        }

        """
    }

    /// The file store (`data/`, relative paths) and the file "database", per host.
    static func mattermostData(_ host: FleetHost) -> [(path: String, text: String)] {
        [
            ("users/demo/profile.txt", "profile of the demo user on \(host.name)\n"),
            ("teams/town-square/welcome.txt", "welcome to town square on \(host.name)\n"),
        ]
    }

    static func mattermostDatabase(_ host: FleetHost) -> String {
        "fake Mattermost database of \(host.name)\n"
    }

    /// A JSON string literal (the texts above hold paths, which may hold quotes).
    static func json(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}
