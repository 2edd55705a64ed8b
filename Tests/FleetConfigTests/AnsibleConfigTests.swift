import Foundation
import Testing

@testable import FleetConfig

/// ansible.cfg found where Ansible looks, read as Ansible reads it (docs/inventory.md, "ansible.cfg").
@Suite("ansible.cfg")
struct AnsibleConfigTests {
    /// A scratch folder with `home/` and `work/` (the current folder), removed after `body`.
    func scratch(_ body: (String, String, String) throws -> Void) throws {
        let root = NSTemporaryDirectory() + "acfg-\(UUID().uuidString.prefix(8))"
        let home = root + "/home", work = root + "/work"
        for d in [home, work] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        chmod(work, 0o755)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(root, home, work)
    }

    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    @Test("found as Ansible finds it: ANSIBLE_CONFIG (a file or a folder), then ./ansible.cfg, then ~/.ansible.cfg")
    func order() throws {
        try scratch { root, home, work in
            try write("[defaults]\nforks = 1\n", home + "/.ansible.cfg")
            #expect(try AnsibleConfig.load(environment: [:], currentFolder: work, home: home).file == home + "/.ansible.cfg")
            try write("[defaults]\nforks = 2\n", work + "/ansible.cfg")
            let here = try AnsibleConfig.load(environment: [:], currentFolder: work, home: home)
            #expect(here.file == work + "/ansible.cfg" && here[.forks]?.value == "2")
            try write("[defaults]\nforks = 3\n", root + "/named.cfg")
            #expect(
                try AnsibleConfig.load(environment: ["ANSIBLE_CONFIG": root + "/named.cfg"], currentFolder: work, home: home).file == root
                    + "/named.cfg")
            try FileManager.default.createDirectory(atPath: root + "/conf", withIntermediateDirectories: true)
            try write("[defaults]\nforks = 4\n", root + "/conf/ansible.cfg")
            let folder = try AnsibleConfig.load(environment: ["ANSIBLE_CONFIG": root + "/conf"], currentFolder: work, home: home)
            #expect(folder.file == root + "/conf/ansible.cfg" && folder[.forks]?.value == "4")
        }
    }

    @Test("a world-writable current folder's ansible.cfg is ignored, with a warning, as Ansible does")
    func worldWritable() throws {
        try scratch { _, home, work in
            try write("[defaults]\nforks = 2\n", work + "/ansible.cfg")
            try write("[defaults]\nforks = 1\n", home + "/.ansible.cfg")
            chmod(work, 0o777)
            let c = try AnsibleConfig.load(environment: [:], currentFolder: work, home: home)
            #expect(c.file == home + "/.ansible.cfg" && c[.forks]?.value == "1")
            #expect(c.warnings.count == 1 && c.warnings[0].contains("world-writable folder \(work) is ignored"))
        }
    }

    @Test("read as Ansible reads it: sections, ` ;` comments, paths from the file's folder, unknown keys ignored; ANSIBLE_* wins")
    func reading() throws {
        try scratch { root, home, work in
            try write(
                """
                # a comment
                ; another
                [defaults]
                inventory = inv/hosts.ini, ~/more.yml ; where the hosts are
                remote_user: deploy
                private_key_file = ~/.ssh/fleet_ed25519
                host_key_checking = False
                timeout = 30
                gathering = smart
                ssh_args = -o ControlMaster=no
                [ssh_connection]
                ssh_args = -C -o ServerAliveInterval=30 # not a comment
                [privilege_escalation]
                become = yes
                become_user = app
                [colors]
                highlight = white
                """, work + "/ansible.cfg")
            let c = try AnsibleConfig.load(environment: ["ANSIBLE_REMOTE_USER": "ops"], currentFolder: work, home: home)
            #expect(c[.inventory]?.value == work + "/inv/hosts.ini," + home + "/more.yml")
            #expect(c[.inventory]?.source == work + "/ansible.cfg:4")
            #expect(c[.remoteUser] == AnsibleConfig.Setting(value: "ops", source: "ANSIBLE_REMOTE_USER"))
            #expect(c[.privateKeyFile]?.value == home + "/.ssh/fleet_ed25519")
            #expect(c.bool(.hostKeyChecking) == false && c[.timeout]?.value == "30")
            // ssh_args belongs to [ssh_connection]: the one under [defaults] is not Ansible's.
            #expect(c[.sshArgs]?.value == "-C -o ServerAliveInterval=30 # not a comment")
            #expect(c.bool(.become) == true && c[.becomeUser]?.value == "app")
            #expect(c.settings.count == 8)
            _ = root
        }
    }

    @Test("become_method other than sudo: an error naming the file and line")
    func becomeMethod() throws {
        try scratch { _, home, work in
            try write("[privilege_escalation]\nbecome_method = su\n", work + "/ansible.cfg")
            #expect {
                try AnsibleConfig.load(environment: [:], currentFolder: work, home: home)
            } throws: { error in
                "\(error)" == "\(work)/ansible.cfg:2: become_method \"su\" is not supported (fleetup becomes with sudo only)"
            }
        }
    }
}
