// The fake Mattermost's database: when the install's config.json says `"DriverName":
// "postgres"`, a start migrates the schema in that database to the installed version
// before the server listens (a real Mattermost migrates as it starts), and refuses a schema
// newer than it knows (a real one cannot run on a schema from its future). So an upgrade's
// start is a real point of no return, and going back after it needs the database backup.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The value of `"key": "…"` in a JSON text (the config's strings hold no escaped quotes).
func jsonString(_ text: String, key: String) -> String? {
    guard let k = text.firstRange(of: "\"\(key)\"") else { return nil }
    let rest = text[k.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\t" }
    guard rest.first == "\"" else { return nil }
    return String(rest.dropFirst().prefix { $0 != "\"" })
}

/// `psql` on `url` running `sql`; its output (rows, `-At`) or nil with what it said.
func psql(_ url: String, _ sql: String) -> (rows: String?, said: String) {
    func q(_ s: String) -> String { "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'" }
    guard let pipe = popen("psql -X -q -A -t -v ON_ERROR_STOP=1 \(q(url)) -c \(q(sql)) 2>&1", "r") else {
        return (nil, "cannot run psql: \(String(cString: strerror(errno)))")
    }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buf, 1, buf.count, pipe)
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    let status = pclose(pipe)
    var text = String(decoding: out, as: UTF8.self)
    while text.last?.isNewline == true { text.removeLast() }
    return status == 0 ? (text, text) : (nil, text)
}

/// Version texts compared as numbers (`5.10.0` after `5.9.0`).
func isNewer(_ a: String, than b: String) -> Bool {
    let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
    return x.lexicographicallyPrecedes(y) == false && x != y
}

/// Migrates the unit's database (when its config names one) to `version`, or fails the start.
func migrateDatabase(_ unit: Unit, version: String) {
    guard let config = readFile("\(unit.install)/config/config.json"), jsonString(config, key: "DriverName") == "postgres",
        let url = jsonString(config, key: "DataSource")
    else { return }
    func refuse(_ why: String) -> Never {
        if let log = unit.log { appendLine(log, "error: \(unit.name) \(version): \(why)") }
        fail(why)
    }
    let read = psql(
        url,
        "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS fleetup_schema (id int PRIMARY KEY CHECK (id = 1), version text NOT NULL, "
            + "migrated_at timestamptz NOT NULL DEFAULT now()); SELECT version FROM fleetup_schema")
    guard let stored = read.rows else { refuse("cannot reach the database: \(read.said)") }
    if !stored.isEmpty, isNewer(stored, than: version) {
        refuse(
            "the database schema is at \(stored), newer than this release \(version): "
                + "going back needs the database backup taken before the upgrade to \(stored)")
    }
    guard stored != version else { return }
    let write = psql(
        url,
        "INSERT INTO fleetup_schema (id, version) VALUES (1, '\(version)') "
            + "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()")
    guard write.rows != nil else { refuse("the schema migration failed: \(write.said)") }
    if let log = unit.log {
        appendLine(log, "info: \(unit.name) migrated the database schema from \(stored.isEmpty ? "none" : stored) to \(version)")
    }
}
