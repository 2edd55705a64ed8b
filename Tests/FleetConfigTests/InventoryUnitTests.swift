import FleetCore
import Foundation
import Testing

@testable import FleetConfig

/// The pieces the loader is made of, as tables. Each row's expectation is what Ansible
/// (ansible-core 2.19) does, unless the comment says fleetup refuses on purpose.
@Suite("inventory building blocks")
struct InventoryUnitTests {
    @Test(
        "host ranges expand like Ansible's expand_hostname_range",
        arguments: [
            ("web[01:03]", ["web01", "web02", "web03"]),  // padding kept
            ("web[1:3]", ["web1", "web2", "web3"]),
            ("db-[a:c]", ["db-a", "db-b", "db-c"]),
            ("n[1:9:4]", ["n1", "n5", "n9"]),  // step, end inclusive
            ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"]),  // several ranges, left to right
            ("x[:2]", ["x0", "x1", "x2"]),  // an empty start is 0
            ("y[8:10]", ["y8", "y9", "y10"]),  // no leading zero: no padding
            ("z[Y:Z]", ["zY", "zZ"]),
            ("plain", ["plain"]),
        ])
    func ranges(_ pattern: String, _ expected: [String]) throws {
        #expect(try HostRange.expand(pattern) == expected)
    }

    @Test(
        "bad ranges are refused with what was expected",
        arguments: [
            ("web[10:2]", "start is after end"),  // Ansible: no hosts, silently
            ("web[f:a]", "start is after end"),
            ("web[01:100]", "same number of digits"),
            ("web[1:x]", "expected numbers or single letters"),
            ("web[ab:cd]", "expected numbers or single letters"),  // Ansible: a substring quirk
            ("web[1:3", "\"[\" is not closed"),
            ("web[1]", "expected [begin:end]"),
            ("web[1:]", "the end is missing"),
            ("web[1:5:0]", "step \"0\" is not a positive number"),
        ])
    func badRanges(_ pattern: String, _ message: String) {
        #expect { try HostRange.expand(pattern) } throws: { ($0 as? HostProblem)?.message.contains(message) == true }
    }

    @Test(
        "name:port splits like Ansible's parse_address",
        arguments: [
            ("web1", "web1", nil), ("web1:2222", "web1", 2222), ("10.0.0.1:22", "10.0.0.1", 22),
            ("[2001:db8::1]:2200", "2001:db8::1", 2200), ("fe80::1", "fe80::1", nil),
            ("web[1:3]:8022", "web[1:3]", 8022), ("web[1:3]", "web[1:3]", nil),
        ] as [(String, String, Int?)])
    func ports(_ entry: String, _ host: String, _ port: Int?) throws {
        let (h, p) = try HostRange.splitPort(entry)
        #expect(h == host)
        #expect(p == port)
    }

    @Test(
        "INI values are Python literals",
        arguments: [
            ("42", VarValue.int(42)), ("-7", .int(-7)), ("3.25", .double(3.25)), ("1e3", .double(1000)),
            ("0x1F", .int(31)), ("0o17", .int(15)), ("0b101", .int(5)), ("1_000", .int(1000)),
            ("True", .bool(true)), ("False", .bool(false)), ("None", .null),
            ("true", .string("true")), ("yes", .string("yes")), ("007", .string("007")),
            ("'quoted'", .string("quoted")), ("\"a\" 'b'", .string("ab")), ("'tab\\tx'", .string("tab\tx")),
            ("[1, 'a']", .list([.int(1), .string("a")])), ("(1,)", .list([.int(1)])), ("1, 2", .list([.int(1), .int(2)])),
            ("{'k': [True]}", .map(["k": .list([.bool(true)])])), ("{2, 1}", .list([.int(1), .int(2)])),
            ("5 # comment", .int(5)), ("hello # comment", .string("hello # comment")), ("", .string("")),
            ("1+2j", .string("(1+2j)")),  // complex: Python's str, as Ansible writes it
            ("b'x'", .unsafe("x")),  // bytes: unsafe text, as Ansible marks it
            // a sign goes before a number only (literal_eval); anything else stays text.
            ("-(1)", .int(-1)), ("+ 1", .int(1)), ("[-1, +2]", .list([.int(-1), .int(2)])),
            ("--1", .string("--1")), ("-(-1)", .string("-(-1)")), ("-True", .string("-True")),
        ])
    func literals(_ text: String, _ expected: VarValue) throws {
        #expect(try INIInventory.value(text) == expected)
    }

    @Test(
        "YAML scalars are typed as PyYAML (YAML 1.1) types them",
        arguments: [
            ("yes", VarValue.bool(true)), ("Off", .bool(false)), ("y", .string("y")), ("~", .null), ("", .null),
            ("0777", .int(511)), ("0o17", .string("0o17")), ("1:20", .int(80)), ("0x1F", .int(31)), ("+12", .int(12)),
            ("1e3", .string("1e3")), ("1.0e+3", .double(1000)), (".5", .double(0.5)), ("-.5", .string("-.5")),
            ("2024-01-02", .string("2024-01-02")), ("2001-12-14 21:59:43Z", .string("2001-12-14T21:59:43+00:00")),
            ("10.0.0.1", .string("10.0.0.1")), ("1.10", .double(1.1)),
        ])
    func yamlScalars(_ text: String, _ expected: VarValue) throws {
        #expect(try YAMLValue.implicit(text, file: "t.yml", line: 1) == expected)
    }

    @Test(
        "host lines split like Python's shlex with comments",
        arguments: [
            ("h1 a=1 b=2", ["h1", "a=1", "b=2"]),
            ("h1 msg=\"two words\" x='y z'", ["h1", "msg=two words", "x=y z"]),
            ("h1 url=http://x/#frag", ["h1", "url=http://x/"]),
            ("h1 e=\"q\\\"d\" f=a\\ b", ["h1", "e=q\"d", "f=a b"]),
            ("h1 empty=''", ["h1", "empty="]),
            ("# only a comment", []),
        ])
    func shlex(_ line: String, _ words: [String]) throws {
        #expect(try Shlex.split(line, comments: true) == words)
    }

    @Test(
        "floats print as Python's repr",
        arguments: [
            (1000.0, "1000.0"), (0.5, "0.5"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (1e-5, "1e-05"),
            (0.0001, "0.0001"), (-2.5, "-2.5"), (1.5e300, "1.5e+300"), (123456789.125, "123456789.125"),
            (Double.infinity, "Infinity"), (-0.0, "-0.0"),
        ])
    func floats(_ d: Double, _ text: String) {
        #expect(PythonJSON.float(d) == text)
    }

    @Test("secrets never print")
    func secrets() throws {
        let path = NSTemporaryDirectory() + "sec-\(UUID().uuidString).yml"
        try "all:\n  hosts:\n    h1:\n      db_password: !secret hunter2\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let inv = try InventoryLoader.load([path])
        let text = PythonJSON.render(InventoryRender.list(inv)) + InventoryRender.yaml(InventoryRender.yamlList(inv))
        #expect(!text.contains("hunter2"))
        #expect(text.contains(Secret.mask))
        #expect(inv.host(named: "h1")?.vars["db_password"]?.scalarText == "hunter2")
    }

    @Test(
        "become is read from the connection variables",
        arguments: [
            (["ansible_become": VarValue.string("yes")], true, "root", "sudo"),
            (["ansible_become": .bool(true), "ansible_become_user": .string("mm")], true, "mm", "sudo"),
            (["ansible_sudo": .string("true"), "ansible_sudo_user": .string("app")], true, "app", "sudo"),  // the old spellings
            (["ansible_become_method": .string("su")], false, "root", "su"),
            ([:], false, "root", "sudo"),
        ] as [([String: VarValue], Bool, String, String)])
    func connectionVars(_ vars: [String: VarValue], _ become: Bool, _ user: String, _ method: String) {
        let c = ConnectionVars(vars)
        #expect(c.become == become)
        #expect(c.becomeUser == user)
        #expect(c.becomeMethod == method)
    }

    @Test(
        "the fast path for simple vars files agrees with the YAML parser",
        arguments: [
            "ansible_host: 10.0.0.5\nrack: r12\n",
            "---\n# a comment\nport: 2222\nenabled: yes\nratio: 1.5\nempty:\nsci: 1e3\noct: 0777\n",
            "when: 2024-01-02\nneg: -7\nplus: +3\npath: /srv/app\nemail: ops@example.com\n",
            "a: 1\r\nb: two\r\n",
            "version: '1.2.0'\nname: \"two words\"\ndns: [10.0.0.53, 10.0.1.53]\nnums: [1, yes, 1.5, off]\nnone: []\n",
            "",
            "# only comments\n",
        ])
    func simpleVarsFiles(_ text: String) throws {
        let fast = try #require(SimpleVarsFile.parse(text, file: "t.yml"))
        var warnings: [ConfigWarning] = []
        let slow = try YAMLInventory.compose(text, file: "t.yml").map { try YAMLValue.value($0, file: "t.yml", warnings: &warnings) }
        #expect(VarValue.map(fast) == (slow ?? .map([:])) || (slow == .null && fast.isEmpty))
    }

    @Test(
        "anything less simple goes to the YAML parser",
        arguments: [
            "a:\n  b: 1\n", "a: x # comment\n", "a: 10.0.0.1:22\n",
            "yes: 1\n", "a: 1\na: 2\n", "a: 'it''s'\n", "a: \"t\\tb\"\n", "a: 'x' # c\n", "a: [1,2]\n", "a: [x, [y]]\n", "a: {k: v}\n",
            "  a: 1\n", "a:\tb\n", "a: é\n", "- a\n", "a: ~\n", "a: &x 1\n",
        ])
    func notSimple(_ text: String) {
        #expect(SimpleVarsFile.parse(text, file: "t.yml") == nil)
    }

    @Test("--list streamed in pieces is byte for byte the text built whole", arguments: [1, 64, 1 << 20])
    func streamed(chunk: Int) throws {
        // 3,000 hosts: _meta.hostvars takes the parallel path, in batches; a float and a
        // secret among the variables, and neighbours sharing theirs.
        let text = "[web]\nweb[0001:3000] port=80\n[web:vars]\nratio=0.5\n[db]\ndb1 pi=3.14 x=\"a\\tb\"\n"
        let dir = NSTemporaryDirectory() + "stream-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/hosts.ini", atomically: false, encoding: .utf8)
        let tree = InventoryRender.list(try InventoryLoader.load([dir + "/hosts.ini"]))
        nonisolated(unsafe) var pieces: [[UInt8]] = []
        PythonJSON.stream(tree, chunk: chunk) { pieces.append($0) }
        #expect(pieces.joined().elementsEqual(PythonJSON.bytes(tree)))
        #expect(chunk > 1000 || pieces.count > 100)
    }
}
