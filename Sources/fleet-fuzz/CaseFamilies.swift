import Foundation

/// The command lines of each family of cases.
extension CaseMaker {
    /// `fleetup inventory`: never connects, so the inventory may be anything.
    mutating func inventoryCase(_ dir: String) -> Case {
        var args = ["inventory"]
        for _ in 0..<(1 + (rng.chance(15) ? rng.below(3) : 0)) { args += ["-i", inventory(dir)] }
        switch rng.below(4) {
        case 0: args.append("--graph"); if rng.chance(30) { args.append(rng.pick(Edge.words)) }
        case 1: args += ["--host", rng.pick(["h1", "web1", "mm-eu-01.chat.example.com", "all", "*", "", "~.*"])]
        default: args.append("--list")
        }
        if rng.chance(30) { args.append("--yaml") }
        limit(dir, &args)
        return Case(family: "inventory", args: args)
    }

    /// `check` and `plan` without `--detect`: a mutated playbook, and a mutated inventory
    /// half of the time (neither connects).
    mutating func playbookCase(_ dir: String) -> Case {
        var args = [rng.pick(["check", "plan"]), playbook(dir), "-i", rng.chance(50) ? inventory(dir) : safeInventory]
        if args[0] == "plan" && rng.chance(40) { args.append("--json") }
        if rng.chance(30) { args += ["--target", rng.pick(Edge.versions)] }
        vars(&args)
        limit(dir, &args)
        return Case(family: args[0], args: args)
    }

    /// `runs` and `report` over a state folder whose journal and record are mutated.
    /// (Never `resume`: a mutated journal could name hosts other than 127.0.0.1.)
    mutating func reportCase(_ dir: String) -> Case {
        let state = dir + "/state"
        try? FileManager.default.copyItem(atPath: seedState, toPath: state)
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: state + "/runs")) ?? []
        for run in runs {
            for file in ["journal.jsonl", "run.json"] where rng.chance(60) {
                let path = state + "/runs/" + run + "/" + file
                if rng.chance(10) {
                    try? FileManager.default.removeItem(atPath: path)
                    try? FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: rng.pick(specialPaths(dir)))
                } else if rng.chance(40), let seed = seeds.journals.randomElement(using: &self) {
                    write(path, Mutate.json(mutated(seed, kind: "json"), rng: &rng))
                } else {
                    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    write(path, rng.chance(60) ? Mutate.jsonTyped(text, rng: &rng) : Mutate.json(text, rng: &rng))
                }
            }
        }
        if rng.chance(15) {
            // fleetup approve: a gate of a mutated run, hostile stages and reasons (it only
            // writes the run folder's approvals/).
            var args = ["approve", rng.pick(runs + ["latest", "", "2", "../.."]), "--state-dir", state]
            if rng.chance(60) { args += ["--stage", rng.pick(Edge.words + ["staging", "prod"])] }
            if rng.chance(50) { args += ["--reason", rng.pick(Edge.words)] }
            return Case(family: "approve", args: args)
        }
        if rng.chance(10) {
            // A PostgreSQL store: hostile URLs, and ones that can only reach nothing (a socket
            // folder that does not exist, 127.0.0.1's closed port 1).
            let url = rng.pick([
                "postgres:///db?host=\(dir)/nosocket", "postgres://u:pw@127.0.0.1:1/db?connect_timeout=2", "postgres://", "postgresql:",
                "mysql://u:pw@127.0.0.1:1/db", "postgres://u:pw@[::1:1/db", "postgres://%zz@/db?host=\(dir)", "postgres://u@/db?password=x",
                "postgres:///db?host=\(dir)/nosocket&sslmode=bogus", "", String(repeating: "p", count: 5000),
            ])
            let command = rng.pick([["store", "init"], ["runs"], ["report", "latest"], ["approve"]])
            return Case(family: "store", args: command + ["--store", url])
        }
        if rng.chance(30) {
            return Case(
                family: "runs",
                args: ["runs", "--state-dir", rng.chance(90) ? state : rng.pick(specialPaths(dir))] + (rng.chance(50) ? ["--json"] : []))
        }
        var args = [
            "report", rng.pick(runs.isEmpty ? ["latest"] : runs + ["latest", "", "2", "../..", String(runs[0].prefix(3))]), "--state-dir",
            state,
        ]
        if rng.chance(60) { args += ["--format", rng.pick(["json", "md", "html", "junit", "text", "bogus"])] }
        if rng.chance(30) { args += ["--output", rng.pick([dir + "/out", dir + "/garbage", "/dev/null", "/dev/full", dir + "/dir"])] }
        return Case(family: "report", args: args)
    }

    /// Commands that connect: the inventory is always the safe one (127.0.0.1, port 1,
    /// closed); only flags and the playbook are fuzzed.
    mutating func connectingCase(_ dir: String) -> Case {
        var args: [String]
        let family = rng.pick(["exec", "ping", "status", "plan-detect", "run", "resume", "lock-status", "lock-release"])
        switch family {
        case "exec":
            args = ["exec", "-i", safeInventory]
            if rng.chance(40) { args += ["--timeout", rng.pick(Edge.seconds)] }
            if rng.chance(30) { args += ["--output-limit", rng.pick(Edge.ints)] }
            if rng.chance(20) { args.append(rng.pick(["--json", "--prefix", "-b", "-K"])) }
            if rng.chance(10) { args += ["--become-user", rng.pick(Edge.words)] }
            args += ["--"] + (rng.chance(90) ? ["true"] : [])
        case "ping":
            args = ["ping", "-i", safeInventory] + (rng.chance(50) ? ["-v"] : []) + (rng.chance(30) ? ["--json"] : [])
        case "status":
            args =
                ["status", "-i", safeInventory]
                + (rng.chance(60) ? [playbook(dir)] : ["--version-cmd", rng.pick(["true", "", "{{ x }}"])])
            if rng.chance(40) { args += ["--timeout", rng.pick(Edge.seconds)] }
            if rng.chance(40) { args += ["--format", rng.pick(["text", "json", "md", "html", "junit", "bogus"])] }
            if rng.chance(20) { args += ["--output", rng.pick([dir + "/status.out", "/dev/full", dir + "/dir", dir + "/missing/x"])] }
            if rng.chance(20) { args += ["--target", rng.pick(Edge.versions)] }
            if rng.chance(10) { args.append("--require-target") }
            vars(&args)
        case "plan-detect":
            args = ["plan", playbook(dir), "-i", safeInventory, "--detect"]
            if rng.chance(40) { args += ["--timeout", rng.pick(Edge.seconds)] }
        case "run", "resume":
            args =
                family == "run"
                ? ["run", playbook(dir), "-i", safeInventory] : ["resume"] + (rng.chance(50) ? [] : [rng.pick(["latest", "x", ""])])
            // Valid long pauses would only make the case wait: fuzz --pause and --soak with
            // values the parser refuses, else no wait at all.
            args += ["--pause", rng.chance(30) ? rng.pick(["99999999999999999999d", "31d", "1e400", "x", ""]) : "0s"]
            args += ["--soak", rng.chance(30) ? rng.pick(["2592001", "nan", "5 minutes"]) : "0s"]
            if rng.chance(50) { args.append(rng.pick(["--yes", "--no-rollback", "-v", "--retry-failed"])) }
            if rng.chance(20) { args += ["--approve", rng.pick(Edge.words)] }
            if rng.chance(20) { args += ["--output", rng.pick([dir + "/reports", "/dev/null", dir + "/garbage"])] }
            let state = dir + "/state"
            try? FileManager.default.copyItem(atPath: seedState, toPath: state)
            args += ["--state-dir", state]
            vars(&args)
        default:
            args = [
                "lock", family == "lock-status" ? "status" : "release", playbook(dir), "-i", safeInventory, "--state-dir", dir + "/state",
            ]
            if family == "lock-release" && rng.chance(85) { args.append("--force") }
        }
        if args[0] != "resume" { limitSafe(&args) }
        connection(dir, &args)
        return Case(family: family, args: args)
    }

    /// `--limit` with patterns only (no @file of hosts that could be anything).
    mutating func limitSafe(_ args: inout [String]) {
        if rng.chance(20) { args += ["--limit", rng.pick(Edge.patterns.filter { !$0.hasPrefix("@") || $0 == "@/dev/zero" })] }
    }
}

extension Array {
    func randomElement(using maker: inout CaseMaker) -> Element? {
        isEmpty ? nil : self[maker.rng.below(count)]
    }
}
