import Foundation

/// The seeds a campaign mutates, read once.
struct Seeds {
    /// Inventory files and corpus folders (a folder is copied whole, then some of its files mutated).
    var inventories: [String] = []
    var playbooks: [String] = []
    /// Journals (`journal.jsonl`) and run records of real runs.
    var journals: [String] = []
    /// Texts of every seed file, for splicing pieces of one into another.
    var texts: [String] = []
}

/// One case: the command line, the files it made, and whether it may connect (then every
/// host is 127.0.0.1 on a closed port, and nothing mutated names a host).
struct Case {
    var family: String
    var args: [String]
}

/// Builds cases in a fresh folder per case.
struct CaseMaker {
    let seeds: Seeds
    let safeInventory: String
    let seedState: String
    var rng: Rng

    /// Paths that are not plain files: devices, a named pipe nobody writes to, a symlink
    /// loop, a folder, a missing path, a sparse 65 MB file.
    func specialPaths(_ dir: String) -> [String] {
        [
            "/dev/zero", "/dev/null", "/dev/urandom", "/", "/proc/self/status", dir + "/fifo", dir + "/loop", dir + "/dir",
            dir + "/missing", dir + "/sparse", dir + "/garbage",
        ]
    }

    static func prepare(_ dir: String, rng: inout Rng) {
        let fm = FileManager.default
        try? fm.createDirectory(atPath: dir + "/dir", withIntermediateDirectories: true)
        mkfifo(dir + "/fifo", 0o600)
        try? fm.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: "loop")
        _ = fm.createFile(atPath: dir + "/sparse", contents: nil)
        truncate(dir + "/sparse", off_t(65 << 20))
        _ = fm.createFile(
            atPath: dir + "/garbage", contents: Data((0..<rng.below(3000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
    }

    mutating func make(in dir: String) -> Case {
        Self.prepare(dir, rng: &rng)
        switch rng.below(100) {
        case 0..<30: return inventoryCase(dir)
        case 30..<55: return playbookCase(dir)
        case 55..<70: return reportCase(dir)
        default: return connectingCase(dir)
        }
    }

    // MARK: inputs

    /// A mutated inventory (file or folder), a special path, or a host list.
    mutating func inventory(_ dir: String) -> String {
        switch rng.below(10) {
        case 0: return rng.pick(specialPaths(dir))
        case 1: return rng.pick(["a,b:2200,", "web[1:3],", "h[1:100000],", "h[0:100000],", "[::1]:22,", ",", "h:99999,", "h[a:z],"])
        default:
            let seed = rng.pick(seeds.inventories)
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: seed, isDirectory: &isDir)
            if isDir.boolValue {
                let copy = dir + "/inv"
                try? FileManager.default.copyItem(atPath: seed, toPath: copy)
                mutateFolder(copy)
                return copy
            }
            let name = (seed as NSString).lastPathComponent
            return write(dir + "/" + name, mutated(seed, kind: kind(of: name)))
        }
    }

    /// Mutates some files of a copied folder, and sometimes adds links and vars files.
    mutating func mutateFolder(_ folder: String) {
        let files = (FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? [])
            .filter { !$0.hasSuffix("expected-error.txt") }
        for f in files where rng.chance(40) {
            let path = folder + "/" + f
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
            _ = write(path, mutated(path, kind: kind(of: f)))
        }
        switch rng.below(6) {
        case 0: try? FileManager.default.createSymbolicLink(atPath: folder + "/self", withDestinationPath: ".")
        case 1: try? FileManager.default.createSymbolicLink(atPath: folder + "/zero", withDestinationPath: "/dev/zero")
        case 2:
            try? FileManager.default.createDirectory(atPath: folder + "/group_vars/all", withIntermediateDirectories: true)
            try? FileManager.default.createSymbolicLink(atPath: folder + "/group_vars/all/up", withDestinationPath: "..")
            _ = write(folder + "/group_vars/all/x.yml", Mutate.structure("yml", &rng).joined(separator: "\n"))
        default: break
        }
    }

    mutating func playbook(_ dir: String) -> String {
        if rng.chance(5) { return rng.pick(specialPaths(dir)) }
        // Mostly the valid ones: the invalid fixtures stop at their first problem.
        let valid = seeds.playbooks.filter { !$0.contains("/invalid/") && !$0.contains("/hostile/") }
        let seed = rng.pick(rng.chance(75) && !valid.isEmpty ? valid : seeds.playbooks)
        let path = dir + "/playbook.yml"
        // Beside it: a releases/ folder, for uploads relative to the playbook.
        try? FileManager.default.createDirectory(atPath: dir + "/releases", withIntermediateDirectories: true)
        return write(path, mutated(seed, kind: "yml"))
    }

    /// A seed's text: mutated freely, or gently (values at the edges, structure kept, so
    /// that the deeper code — planning, rendering — gets them), or as it is.
    mutating func mutated(_ path: String, kind: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        switch rng.below(100) {
        case 0..<45: return Mutate.text(text, kind: kind, seeds: seeds.texts, rng: &rng)
        case 45..<90: return Mutate.values(text, rng: &rng)
        default: return text
        }
    }

    func kind(of name: String) -> String {
        name.hasSuffix(".yml") || name.hasSuffix(".yaml") || name.hasSuffix(".json")
            ? "yml" : name.hasSuffix(".ini") ? "ini" : rngFree(name)
    }

    private func rngFree(_ name: String) -> String { name.contains("vars") ? "yml" : "ini" }

    @discardableResult
    func write(_ path: String, _ text: String) -> String {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    // MARK: flags

    mutating func limit(_ dir: String, _ args: inout [String]) {
        guard rng.chance(30) else { return }
        if rng.chance(20) {
            // A few terms, or (now and then) tens of thousands: exclusions, globs, names.
            let count = rng.chance(10) ? rng.below(60_000) : rng.below(5)
            let kind = rng.below(3)
            write(
                dir + "/limit.txt",
                (0..<count).map { i in
                    kind == 0 ? "!h\(i)" : kind == 1 ? "h\(i)*" : rng.chance(50) ? "h\(i)" : rng.pick(Edge.patterns)
                }.joined(separator: "\n"))
            args += ["--limit", "@" + rng.pick([dir + "/limit.txt"] + specialPaths(dir))]
        } else {
            args += ["--limit", rng.pick(Edge.patterns)]
        }
    }

    mutating func vars(_ args: inout [String]) {
        // Never a connection variable: those could name a host other than 127.0.0.1.
        for _ in 0..<rng.below(3) {
            let name =
                rng.chance(80)
                ? rng.pick(["service", "app_port", "install_dir", "db_engine", "backup_dir", "t0", "x"])
                : rng.pick(["", "=", "a b", "host", "from", "ansible_become"])
            args += ["--var", name + (rng.chance(90) ? "=" : rng.pick(["", "=="])) + rng.pick(Edge.words + Edge.numbers)]
        }
    }

    /// The connection flags, at their edges; files only special ones or inside the case.
    mutating func connection(_ dir: String, _ args: inout [String]) {
        // Each flag now and then, half of the time with a valid value: a case with one bad
        // flag stops at it, and the code behind the flags would never be reached.
        func value(_ valid: [String], _ edge: [String]) -> String { rng.chance(50) ? rng.pick(valid) : rng.pick(edge) }
        if rng.chance(20) { args += [rng.pick(["-f", "--forks"]), value(["1", "2", "200", "9223372036854775807"], Edge.ints)] }
        if rng.chance(15) { args += ["--handshakes", value(["1", "64", "9223372036854775807"], Edge.ints)] }
        if rng.chance(25) { args += ["--connect-timeout", value(["0.001", "1", "2592000", "1e-300"], Edge.seconds)] }
        if rng.chance(15) { args += ["--known-hosts", value(["/dev/null", dir + "/kh"], specialPaths(dir))] }
        if rng.chance(10) { args += ["--host-key-policy", rng.pick(["strict", "accept-new", "no", "bogus", ""])] }
        if rng.chance(10) { args += ["-u", rng.pick(Edge.words)] }
        if rng.chance(15) { args += ["--private-key", rng.pick(specialPaths(dir))] }
        // Never the machine's ssh_config: a file of the case (mutated, HostName only ever
        // 127.0.0.1), a special path, or none.
        switch rng.below(4) {
        case 0: args += ["--ssh-config", rng.pick(specialPaths(dir))]
        case 1:
            let lines = [
                "Host *", "  HostName 127.0.0.1", "  Port 1", "  ConnectTimeout " + rng.pick(Edge.ints),
                "  ServerAliveInterval " + rng.pick(Edge.ints), "  ServerAliveCountMax " + rng.pick(Edge.ints),
                "  IdentityFile " + rng.pick(specialPaths(dir)), "  UserKnownHostsFile " + rng.pick(specialPaths(dir)),
                "Include " + rng.pick(specialPaths(dir)), "Match " + rng.pick(["all", "host x", "exec true", "bogus"]),
            ]
            args += [
                "--ssh-config",
                write(dir + "/ssh_config", (0..<(1 + rng.below(8))).map { _ in rng.pick(lines) }.joined(separator: "\n") + "\n"),
            ]
        default: args += ["--ssh-config", "none"]
        }
    }
}
