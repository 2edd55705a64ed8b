import FleetCore
import Foundation
import Testing

import struct FleetCore.Host

@testable import FleetSSH

/// The pure parts of ssh_config reading, as tables: line splitting, patterns, tokens,
/// ProxyJump values, and what a resolved host's `ConnectionSettings` become.
@Suite("ssh_config: parsing")
struct SSHConfigParsingTests {
    @Test(
        "lines split as OpenSSH's readconf.c splits them",
        arguments: [
            ("Port 22", "port", ["22"]),
            ("  Port=22", "port", ["22"]),  // Keyword=value
            ("Port = 22", "port", ["22"]),  // blanks around one =
            ("HOSTNAME Example.COM", "hostname", ["Example.COM"]),  // keywords in any case, values as written
            ("User \"a b\"", "user", ["a b"]),  // double quotes group
            ("User 'a b'c", "user", ["a bc"]),  // single quotes, and mid-word
            ("User a\\ b", "user", ["a b"]),  // an escaped blank
            ("Port 22 # why", "port", ["22"]),  // a comment after the value
            ("Host a#b", "host", ["a#b"]),  // # inside a word is a character
            ("Host a b\t c", "host", ["a", "b", "c"]),
            ("Port 22\r", "port", ["22"]),  // CRLF files
            ("\tIdentityFile ~/.ssh/k", "identityfile", ["~/.ssh/k"]),
        ])
    func lines(text: String, keyword: String, arguments: [String]) throws {
        let line = try #require(try SSHConfigLine.parse(text[...]))
        #expect(line.keyword == keyword)
        #expect(line.arguments == arguments)
    }

    @Test("blank lines and comments are no lines", arguments: ["", "   ", "# Host x", "   # indented", "\t\r"])
    func nothing(text: String) throws {
        #expect(try SSHConfigLine.parse(text[...]) == nil)
    }

    @Test(
        "malformed lines say why",
        arguments: [
            ("Port", "no argument after keyword \"port\""),
            ("Port =", "no argument after keyword \"port\""),
            ("User \"open", "invalid quotes"),
            ("= 22", "expected a keyword at the start of the line"),
        ])
    func malformed(text: String, message: String) {
        #expect { _ = try SSHConfigLine.parse(text[...]) } throws: { ($0 as? SSHConfigLine.Problem)?.message == message }
    }

    @Test(
        "ssh arguments split as Python's shlex.split (Ansible)",
        arguments: [
            ("-o ProxyJump=a -J b", ["-o", "ProxyJump=a", "-J", "b"]),
            ("-o 'ProxyCommand=ssh -W %h:%p b'", ["-o", "ProxyCommand=ssh -W %h:%p b"]),
            ("-o \"User=\\\"x\\\"\"", ["-o", "User=\"x\""]),
            ("a\\ b  #c", ["a b", "#c"]),  // no comments in shlex.split
            ("", []),
        ])
    func shellWords(text: String, words: [String]) throws {
        #expect(try Shlex.split(text, comments: false) == words)
    }

    @Test(
        "Host lines: words are patterns, case-sensitive, a matching ! excludes",
        arguments: [
            (["web*"], "web1", true),
            (["web*"], "Web1", false),  // ssh matches Host lines case-sensitively
            (["web?"], "web10", false),
            (["*", "!bastion"], "bastion", false),
            (["!bastion", "*"], "bastion", false),  // order does not matter
            (["!bastion"], "web1", false),  // a negation alone never matches
            (["a,b"], "a", false),  // no comma lists on Host lines
            (["*.example.com", "!*.db.example.com"], "pg.db.example.com", false),
            (["*.example.com", "!*.db.example.com"], "www.example.com", true),
        ])
    func hostLines(patterns: [String], host: String, matches: Bool) {
        #expect(SSHPattern.hostLine(patterns, matches: host) == matches)
    }

    @Test(
        "pattern lists (Match): commas, ! wins, host names in any case",
        arguments: [
            ("a,b", "b", true, SSHPattern.ListMatch.positive),
            ("*.example.com,!bad.example.com", "bad.example.com", true, .negated),
            ("!bad.example.com", "good.example.com", true, .none),
            ("WEB*", "web1", true, .positive),
            ("Admin", "admin", false, .none),  // user names are exact
        ])
    func lists(list: String, text: String, lowercase: Bool, expected: SSHPattern.ListMatch) {
        #expect(SSHPattern.list(list, text, lowercase: lowercase) == expected)
    }

    @Test(
        "ProxyJump values",
        arguments: [
            ("bastion", ["bastion"]),
            ("ops@bastion:2222", ["ops@bastion:2222"]),
            ("a,b@c:2,d", ["a", "b@c:2", "d"]),
            ("ssh://u@gw:2200/", ["u@gw:2200"]),
            ("[2001:db8::1]:2222,u@[::1]", ["[2001:db8::1]:2222", "u@[::1]"]),
            ("u@gw:ssh", ["u@gw:22"]),  // service names as ports
            ("a@b@c", ["a@b@c"]),  // the last @ separates the user
            ("NONE", []),
        ])
    func jumps(text: String, hops: [String]) throws {
        switch try SSHJumpSpec.parse(text) {
        case .none: #expect(hops.isEmpty)
        case .hops(let h, _): #expect(h.map(\.description) == hops)
        }
    }

    @Test("bad ProxyJump values", arguments: ["a:b", "a:0", "@a", "a,,b", "u@", "::1", "a:99999", "[::1", "a, b"])
    func badJumps(text: String) {
        #expect(throws: SSHConfigLine.Problem.self) { _ = try SSHJumpSpec.parse(text) }
    }

    @Test(
        "times as convtime reads them",
        arguments: [
            ("30", 30), ("90s", 90), ("1m30s", 90), ("2h", 7200), ("1d", 86400), ("1w", 604800), ("5S", 5), ("0", 0),
        ])
    func times(text: String, seconds: Int) throws {
        #expect(try SSHSetting.seconds(text, keyword: "connecttimeout") == seconds)
    }

    @Test("bad times", arguments: ["", "-1", "5x", "m", "1.5", "99999999999"])
    func badTimes(text: String) {
        #expect(throws: SSHConfigLine.Problem.self) { _ = try SSHSetting.seconds(text, keyword: "connecttimeout") }
    }

    @Test(
        "tokens: %x from the table, %% a percent, ${VAR} when asked; unknown ones are errors",
        arguments: [
            ("%h_%p", "web_22"), ("100%%", "100%"), ("${HOME}/x", "/home/op/x"), ("plain", "plain"),
        ])
    func tokens(text: String, expanded: String) throws {
        #expect(try SSHTokens.expand(text, ["h": "web", "p": "22"], environment: ["HOME": "/home/op"]) == expanded)
    }

    @Test("bad tokens", arguments: ["%z", "trailing %", "${UNSET}", "${", "${1X}"])
    func badTokens(text: String) {
        #expect(throws: SSHTokens.Problem.self) { _ = try SSHTokens.expand(text, ["h": "web"], environment: [:]) }
    }

    @Test(
        "~ is the home folder (of the password database)",
        arguments: [
            ("~", "/home/op"), ("~/.ssh/k", "/home/op/.ssh/k"), ("/abs/~", "/abs/~"), ("~root/k", "/root/k"),
        ])
    func tilde(path: String, expanded: String) throws {
        #expect(try SSHTokens.expandTilde(path, home: "/home/op") == expanded)
    }

    @Test(
        "Match lines",
        arguments: [
            ("all", 1), ("canonical all", 2), ("host a user b", 2), ("!host a", 1), ("exec \"test -f /x\"", 1),
            ("host h all", 2),  // ssh 9.2 accepts it (all adds nothing)
        ])
    func matchLines(text: String, terms: Int) throws {
        let words = try SSHConfigLine.split(text[...])
        #expect(try SSHMatch.parse(words).criteria.count == terms)
    }
}
