import FleetConfig
import Foundation
import Testing

/// A NUL in a host name was accepted and the name cut at it when resolved (`127.0.0.1\0evil`
/// connected to 127.0.0.1); control characters and line separators are refused at load,
/// with the file and line, from every kind of source.
@Suite("control characters in host names")
struct HostNameCharacterTests {
    /// Loads `text` as an inventory file named `name` in a folder of its own.
    static func load(_ name: String, _ text: String) throws {
        let dir = NSTemporaryDirectory() + "hostchars-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        _ = try InventoryLoader.load([dir + "/" + name])
    }

    @Test(
        "refused with file:line and the character shown, never printed",
        arguments: [
            // The issue's case: a NUL in an INI host line.
            (
                "hosts.ini", "[app]\nweb\u{0}1 current_version=1.0.0\n",
                "hosts.ini:2: host \"web\\u00001\" has a control character, U+0000 (expected a host name or an address)"
            ),
            // A YAML key can hold one through an escape: the address before the NUL is what ssh would reach.
            (
                "hosts.yml", "all:\n  hosts:\n    \"127.0.0.1\\0evil\": {ansible_port: 2222}\n",
                "hosts.yml:3: host \"127.0.0.1\\u0000evil\" has a control character, U+0000 (expected a host name or an address)"
            ),
            // A tab inside a YAML name (in INI a tab separates words).
            (
                "hosts.yml", "all:\n  hosts:\n    \"web\\tone\":\n",
                "hosts.yml:3: host \"web\\u0009one\" has a control character, U+0009 (expected a host name or an address)"
            ),
            // An escape sequence would reach the terminal in every line naming the host.
            (
                "hosts.ini", "[app]\nweb\u{1B}[31m\n",
                "hosts.ini:2: host \"web\\u001B[31m\" has a control character, U+001B (expected a host name or an address)"
            ),
            // DEL and a C1 control.
            (
                "hosts.ini", "web\u{7F}\n",
                "hosts.ini:1: host \"web\\u007F\" has a control character, U+007F (expected a host name or an address)"
            ),
            (
                "hosts.yml", "all:\n  hosts:\n    \"web\\x85x\":\n",
                "hosts.yml:3: host \"web\\u0085x\" has a control character, U+0085 (expected a host name or an address)"
            ),
            // A line separator splits the host's lines in reports.
            (
                "hosts.yml", "all:\n  hosts:\n    \"web\\Ly\":\n",
                "hosts.yml:3: host \"web\\u2028y\" has a control character, U+2028 (expected a host name or an address)"
            ),
            // In a range, before it is expanded.
            (
                "hosts.ini", "[app]\nweb[1:3]\u{0}x\n",
                "hosts.ini:2: host \"web[1:3]\\u0000x\" has a control character, U+0000 (expected a host name or an address)"
            ),
        ])
    func refused(file: String, text: String, message: String) throws {
        do {
            try Self.load(file, text)
            Issue.record("loaded, but the host name holds a control character")
        } catch let e as ConfigError {
            #expect(e.description.hasSuffix("/" + message), "\(e)")
        }
    }

    @Test("a host list given with -i is refused too, naming -i")
    func hostList() {
        #expect { _ = try InventoryLoader.load(["web1,we\u{0}b2,"]) } throws: {
            ($0 as? ConfigError)?.description
                == "-i: host \"we\\u0000b2\" has a control character, U+0000 (expected a host name or an address)"
        }
    }

    @Test(
        "names Ansible takes still load: non-ASCII letters, a CRLF file's line ends",
        arguments: [
            ("hosts.ini", "[app]\r\nwéb1 a=1\r\nweb2\r\n"),
            ("hosts.yml", "all:\n  hosts:\n    \"wéb-1\":\n"),
        ])
    func accepted(file: String, text: String) throws {
        try Self.load(file, text)
    }
}
