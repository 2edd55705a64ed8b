import Foundation
import Testing

@testable import FleetStore

private let t0 = Date(timeIntervalSince1970: 1_796_181_301)  // 2026-12-02T03:15:01Z

@Suite("run store: the state folder, run ids, finding runs")
struct RunStoreTests {
    @Test(
        "where the state folder is",
        arguments: [
            // --state-dir wins over everything
            ("/flag", ["FLEETUP_STATE_DIR": "/env", "XDG_STATE_HOME": "/xdg", "HOME": "/home/a"], "/flag"),
            (nil, ["FLEETUP_STATE_DIR": "/env", "XDG_STATE_HOME": "/xdg", "HOME": "/home/a"], "/env"),
            (nil, ["XDG_STATE_HOME": "/xdg", "HOME": "/home/a"], "/xdg/fleetup"),
            // a relative XDG_STATE_HOME is invalid (XDG spec) and ignored
            (nil, ["XDG_STATE_HOME": "xdg", "HOME": "/home/a"], "/home/a/.local/state/fleetup"),
            (nil, ["HOME": "/home/a"], "/home/a/.local/state/fleetup"),
            // empty values count as unset
            ("", ["FLEETUP_STATE_DIR": "", "XDG_STATE_HOME": "", "HOME": "/home/a"], "/home/a/.local/state/fleetup"),
        ] as [(String?, [String: String], String)])
    func resolve(flag: String?, environment: [String: String], root: String) {
        #expect(RunStore.resolve(stateDir: flag, environment: environment).root == root)
    }

    @Test("a relative --state-dir is taken from the current folder")
    func relative() {
        let root = RunStore.resolve(stateDir: "state/./x", environment: [:]).root
        #expect(root == FileManager.default.currentDirectoryPath + "/state/x")
    }

    @Test(
        "run ids: UTC time then 4 hex digits; only that format is an id",
        arguments: [
            ("20261202-031501-3f2a", true),
            ("20261202-031501-3F2A", false),  // lower-case hex only
            ("20261202-031501-3f2", false),
            ("2026120-0031501-3f2a", false),
            ("notes", false),
        ])
    func ids(text: String, valid: Bool) {
        #expect((RunID(text) != nil) == valid)
        #expect(RunID(date: t0, random: 0x3f2a).text == "20261202-031501-3f2a")
        #expect(RunID(date: t0, random: 0x000b).text == "20261202-031501-000b")
    }

    @Test("create makes 0700 folders with unique ids; list is newest first, ignoring what is not a run")
    func createAndList() async throws {
        try await withFolder { dir async throws in
            let store = RunStore(root: dir + "/state")
            let older = try store.create(now: t0)
            let newer = try store.create(now: t0 + 3600)
            // Many runs in one second still get a folder each.
            var same: [RunFolder] = []
            for _ in 0..<100 { same.append(try store.create(now: t0 + 60)) }
            #expect(Set(same.map(\.id)).count == 100)
            #expect(same.allSatisfy { $0.id.text.hasPrefix("20261202-031601-") })
            try FileManager.default.createDirectory(atPath: store.runsFolder + "/notes", withIntermediateDirectories: false)
            try Data().write(to: URL(fileURLWithPath: store.runsFolder + "/20261202-031501-ffff"))  // a file, not a folder

            let listed = try store.list()
            #expect(listed.count == 102)
            #expect(listed.first == newer)
            #expect(listed.last == older)
            #expect(listed.map(\.id) == listed.map(\.id).sorted(by: >))
            #expect(try store.latest() == newer)
            #expect(try mode(older.path) == 0o700)
            #expect(try mode(store.runsFolder) == 0o700)
            #expect(try mode(store.root) == 0o700)
            #expect(older.journal == older.path + "/journal.jsonl")
            #expect(
                [older.record, older.markdownReport, older.htmlReport, older.junitReport].map { ($0 as NSString).lastPathComponent }
                    == ["run.json", "report.md", "report.html", "report.junit.xml"])
        }
    }

    @Test("runs started in the same second sort by their start: latest is the one started last")
    func sameSecond() async throws {
        try await withFolder { dir async throws in
            let store = RunStore(root: dir + "/state")
            for i in 0..<20 {
                let earlier = try store.create(now: t0 + Double(i) + 0.0125)
                let later = try store.create(now: t0 + Double(i) + 0.0135)
                #expect(later.id > earlier.id, "\(earlier.id) \(later.id)")
                #expect(try store.latest() == later)
            }
            // The suffix grows with the millisecond: 65 values each.
            #expect(RunStore.suffixes(t0 + 0.9995).prefix(16).allSatisfy { (64935...64999).contains($0) })
            #expect(RunStore.suffixes(t0).prefix(16).allSatisfy { (0...64).contains($0) })
        }
    }

    @Test("an empty store has no runs and no latest")
    func empty() async throws {
        try await withFolder { dir async throws in
            let store = RunStore(root: dir + "/never-created")
            #expect(try store.list().isEmpty)
            #expect(try store.latest() == nil)
            let error = await thrown(StoreError.self) { _ = try store.find("2026") }
            #expect(error?.description == "\(store.runsFolder): no run \"2026\" (there are no runs yet)")
        }
    }

    @Test("find: the exact id, a unique prefix, or a clear error listing the candidates")
    func find() async throws {
        try await withFolder { dir async throws in
            let store = RunStore(root: dir)
            for name in ["20261202-031501-3f2a", "20261202-031501-3f2b", "20261203-100000-0001"] {
                try FileManager.default.createDirectory(atPath: store.runsFolder + "/" + name, withIntermediateDirectories: true)
            }
            #expect(try store.find("20261202-031501-3f2a").id.text == "20261202-031501-3f2a")
            #expect(try store.find("20261203").id.text == "20261203-100000-0001")
            #expect(try store.find("20261202-031501-3f2b").path == store.runsFolder + "/20261202-031501-3f2b")

            let ambiguous = await thrown(StoreError.self) { _ = try store.find("20261202-031501-3f") }
            #expect(ambiguous?.kind == .ambiguousRun)
            #expect(
                ambiguous?.message
                    == #""20261202-031501-3f" matches 2 runs: 20261202-031501-3f2b, 20261202-031501-3f2a; give more of the id"#)

            let none = await thrown(StoreError.self) { _ = try store.find("2025") }
            #expect(none?.kind == .runNotFound)
            #expect(none?.message == #"no run "2025" (the newest are 20261203-100000-0001, 20261202-031501-3f2b, 20261202-031501-3f2a)"#)
        }
    }
}
