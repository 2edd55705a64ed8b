import Foundation

/// The seeds under `root`: inventories/, the conformance corpus (each case a folder),
/// the hostile fixtures, playbooks/ and the playbook fixtures.
func loadSeeds(root: String, state: String) -> Seeds {
    let fm = FileManager.default
    var s = Seeds()
    func files(_ dir: String, _ suffixes: [String]) -> [String] {
        let all = fm.enumerator(atPath: root + "/" + dir)?.compactMap { $0 as? String } ?? []
        return all.filter { f in suffixes.contains { f.hasSuffix($0) } }.map { root + "/" + dir + "/" + $0 }
    }
    s.inventories =
        files("inventories", [".ini", ".yml", "hosts"])
        + files("Tests/FleetConfigTests/Fixtures/hostile/inventories", [".ini", ".yml"])
    let corpus = root + "/Tests/FleetConfigTests/Fixtures/corpus"
    for case_ in ((try? fm.contentsOfDirectory(atPath: corpus)) ?? []).sorted() {
        let sources = corpus + "/" + case_ + "/sources"
        s.inventories.append(fm.fileExists(atPath: sources) ? sources : corpus + "/" + case_)
    }
    s.inventories += files("Tests/FleetConfigTests/Fixtures/corpus", ["hosts.ini", "hosts.yml", "hosts"])
    s.playbooks =
        files("playbooks", [".yml"]) + files("Tests/FleetConfigTests/Fixtures/playbooks", [".yml"])
        + files("Tests/FleetConfigTests/Fixtures/hostile/playbooks", [".yml"])
    let runs = fm.enumerator(atPath: state)?.compactMap { $0 as? String } ?? []
    s.journals = runs.filter { $0.hasSuffix("journal.jsonl") || $0.hasSuffix("run.json") }.map { state + "/" + $0 }
    s.texts = (s.inventories + s.playbooks).compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }
    return s
}

/// A state folder with real runs to mutate for `report` and `runs`: runs of the
/// showcase playbooks against the safe inventory (their hosts unreachable), plus the runs
/// of `--seed-state` (a real run's folder) when given.
func makeSeedState(_ o: Options, safeInventory: String) -> String {
    let state = o.work + "/seed-state"
    try? FileManager.default.removeItem(atPath: state)
    let runner = Runner(fleetup: o.fleetup, memoryKB: o.memoryMB * 1024, timeout: 120)
    for book in ["playbooks/mattermost.yml", "playbooks/flow.yml"] {
        let env = ["PATH": "/usr/bin:/bin", "HOME": o.work, "LANG": "C.UTF-8", "FLEETUP_STATE_DIR": state]
        let r = runner.run(
            [
                "run", o.root + "/" + book, "-i", safeInventory, "--yes", "--pause", "0s", "--state-dir", state,
                "--ssh-config", "none",
            ], in: o.work, env: env)
        log("seed run of \(book): exit \(r.status ?? -1)")
    }
    if let extra = o.seedState, let runs = try? FileManager.default.contentsOfDirectory(atPath: extra + "/runs") {
        for run in runs { try? FileManager.default.copyItem(atPath: extra + "/runs/" + run, toPath: state + "/runs/" + run) }
    }
    return state
}

func printSummary(_ tally: Tally, started: Date, options: Options) {
    let text = tally.snapshot { t -> String in
        var out = "fleet-fuzz summary\n"
        out += "fleetup: \(options.fleetup)\nseed: \(options.seed)\n"
        out += "cases: \(t.cases)\nwall: \(Int(Date().timeIntervalSince(started))) s\n"
        out +=
            "cpu of the cases: \(Int(t.cpu)) s\njobs: \(options.jobs), memory cap \(options.memoryMB) MB, timeout \(Int(options.timeout)) s\n"
        out += "by family: " + t.byFamily.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        for (family, endings) in t.endings.sorted(by: { $0.key < $1.key }) {
            out += "  \(family): " + endings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        }
        out +=
            "findings by class: "
            + (t.byClass.isEmpty ? "none" : t.byClass.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            + "\n"
        out += "distinct findings: \(t.signatures.count)\n"
        for (sig, f) in t.signatures.sorted(by: { $0.key < $1.key }) { out += "  \(f.count)x \(sig)\n    \(f.sample)\n" }
        return out
    }
    print(text)
    _ = FileManager.default.createFile(atPath: options.work + "/summary.txt", contents: Data(text.utf8))
}
