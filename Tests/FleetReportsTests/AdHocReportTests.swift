import FleetCore
import FleetReports
import Foundation
import Testing

@Suite("host lists written short, like dshbak -c")
struct HostListTests {
    @Test(
        "compress",
        arguments: [
            (["web01", "web02", "web03"], "web[01-03]"),
            (["web01", "web02", "web03", "web07"], "web[01-03,07]"),
            (["web1", "web10", "web2"], "web[1-2],web10"),  // widths differ: not one range
            (["db1"], "db1"),
            (["a", "b"], "a,b"),  // no number: as they are
            (["host02", "host01"], "host[01-02]"),  // sorted inside the bracket
            (["prod01", "staging01", "prod02"], "prod[01-02],staging01"),
            (["10.0.0.1", "10.0.0.2"], "10.0.0.[1-2]"),
        ])
    func compress(names: [String], expected: String) {
        #expect(HostList.compress(names) == expected)
    }
}

@Suite("exec report")
struct AdHocReportTests {
    static let run = AdHocRun(
        command: "uname -r",
        results: [
            AdHocHostResult(host: "web01", outcome: .ran(CommandResult(exitStatus: 0, stdout: CapturedOutput("6.1.0\n")))),
            AdHocHostResult(host: "web02", outcome: .ran(CommandResult(exitStatus: 0, stdout: CapturedOutput("6.1.0\n")))),
            AdHocHostResult(
                host: "web03",
                outcome: .ran(
                    CommandResult(
                        exitStatus: 2, stdout: CapturedOutput("ünïcode\n"),
                        stderr: CapturedOutput("boom\nbang\n")))),
            AdHocHostResult(
                host: "web04",
                outcome: .failed(
                    RemoteError(
                        .unreachable, host: "web04",
                        "127.0.0.1:1: connection refused (4 attempts)"))),
            AdHocHostResult(host: "web05", outcome: .ran(CommandResult(exitStatus: 0, stdout: CapturedOutput("6.1.0\n")))),
        ], duration: .milliseconds(1234))

    @Test("collapsed: identical output shares a block, stderr is marked, summary last")
    func collapsed() {
        #expect(
            AdHocReport.text(Self.run) == """
                == web[01-02,05] (3): exit 0
                6.1.0
                == web03: exit 2
                ünïcode
                stderr: boom
                stderr: bang
                == web04: unreachable: 127.0.0.1:1: connection refused (4 attempts)
                5 hosts: 3 ok, 1 failed, 1 unreachable, 0 timed out (1.23 s)

                """)
    }

    @Test("prefixed: every line names its host; failures get a status line")
    func prefixed() {
        #expect(
            AdHocReport.text(Self.run, layout: .prefixed) == """
                web01 | 6.1.0
                web02 | 6.1.0
                web03 | ünïcode
                web03 ! boom
                web03 ! bang
                web03 = exit 2
                web04 = unreachable: 127.0.0.1:1: connection refused (4 attempts)
                web05 | 6.1.0
                5 hosts: 3 ok, 1 failed, 1 unreachable, 0 timed out (1.23 s)

                """)
    }

    @Test("truncated output says how much was dropped")
    func truncated() {
        var out = CapturedOutput(limit: 4)
        out.append(Array("0123456789".utf8))
        let run = AdHocRun(
            command: "x", results: [AdHocHostResult(host: "h", outcome: .ran(CommandResult(exitStatus: 0, stdout: out)))],
            duration: .milliseconds(5))
        #expect(AdHocReport.text(run).contains("[… 6 earlier bytes not kept; 10 in all]\n6789\n"))
        #expect(AdHocReport.summary(run) == "1 host: 1 ok, 0 failed, 0 unreachable, 0 timed out (5 ms)")
    }

    @Test("JSON: every host has the same keys, summary uses snake_case buckets")
    func json() throws {
        let text = AdHocReport.json(Self.run)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "fleetup.exec/1")
        #expect(doc["duration_ms"] as? Int == 1234)
        let summary = try #require(doc["summary"] as? [String: Int])
        #expect(summary == ["ok": 3, "failed": 1, "unreachable": 1, "timed_out": 0])
        let hosts = try #require(doc["hosts"] as? [[String: Any]])
        #expect(hosts.count == 5)
        #expect(Set(hosts.map { Set($0.keys) }).count == 1)
        #expect(hosts[2]["stderr"] as? String == "boom\nbang\n")
        #expect(hosts[2]["exit_status"] as? Int == 2)
        let error = try #require(hosts[3]["error"] as? [String: String])
        #expect(error["kind"] == "unreachable")
        #expect(hosts[3]["exit_status"] is NSNull)
    }
}
