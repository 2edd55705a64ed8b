import FleetCore
import FleetLocal
import Foundation

/// ansible.cfg as Ansible finds and reads it, for the settings fleetup has (docs/inventory.md,
/// "ansible.cfg"). The first that exists: `$ANSIBLE_CONFIG` (a file, or a folder holding
/// ansible.cfg), `./ansible.cfg` (not in a world-writable current folder: Ansible ignores it
/// there, with a warning), `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`. Then each setting's
/// `ANSIBLE_*` environment variable beats the file. Flags beat both; inventory variables beat
/// both too (they are the host's own), as in Ansible. Unknown sections and keys are ignored.
public struct AnsibleConfig: Sendable, Equatable {
    /// One setting's value and where it came from (`ansible.cfg:12`, `ANSIBLE_FORKS`).
    public struct Setting: Sendable, Equatable {
        public var value: String
        public var source: String
    }

    /// The config file read, if any.
    public var file: String?
    /// By fleetup's name of the setting (`Key`).
    public var settings: [Key: Setting] = [:]
    /// What Ansible would also say (a world-writable folder's ansible.cfg ignored).
    public var warnings: [String] = []

    /// The settings fleetup takes from ansible.cfg: section, key, environment variable.
    public enum Key: String, Sendable, CaseIterable {
        case inventory, remoteUser = "remote_user", privateKeyFile = "private_key_file", forks, timeout
        case hostKeyChecking = "host_key_checking", sshArgs = "ssh_args", sshCommonArgs = "ssh_common_args"
        case become, becomeUser = "become_user", becomeMethod = "become_method"
        case vaultPasswordFile = "vault_password_file", vaultIdentityList = "vault_identity_list"

        var section: String {
            switch self {
            case .sshArgs, .sshCommonArgs: return "ssh_connection"
            case .become, .becomeUser, .becomeMethod: return "privilege_escalation"
            default: return "defaults"
            }
        }

        var environment: String { "ANSIBLE_" + rawValue.uppercased() }

        /// Paths are expanded (`~`) and, when relative, taken from the config file's folder.
        var isPath: Bool { self == .inventory || self == .privateKeyFile || self == .vaultPasswordFile }
    }

    public subscript(_ key: Key) -> Setting? { settings[key] }

    /// A boolean setting as Ansible reads one (yes/no, true/false, on/off, 1/0).
    public func bool(_ key: Key) -> Bool? {
        guard let v = settings[key]?.value.lowercased() else { return nil }
        if ["yes", "y", "true", "t", "on", "1"].contains(v) { return true }
        if ["no", "n", "false", "f", "off", "0"].contains(v) { return false }
        return nil
    }

    /// The config of this process: its environment, its current folder, its home.
    public static func load() throws(ConfigError) -> AnsibleConfig {
        let env = ProcessInfo.processInfo.environment
        return try load(
            environment: env, currentFolder: FileManager.default.currentDirectoryPath,
            home: env["HOME"] ?? NSHomeDirectory())
    }

    public static func load(environment: [String: String], currentFolder: String, home: String) throws(ConfigError) -> AnsibleConfig {
        var config = AnsibleConfig()
        config.file = find(environment: environment, currentFolder: currentFolder, home: home, warnings: &config.warnings)
        if let file = config.file {
            let text: String
            do { text = String(decoding: try InputFile.read(file, limit: 1 << 20), as: UTF8.self) } catch {
                throw ConfigError(file: file, "cannot read it: \(error)")
            }
            let folder = (file as NSString).deletingLastPathComponent
            for (section, key, value, line) in parse(text) {
                guard let k = Key(rawValue: key), k.section == section else { continue }
                config.settings[k] = Setting(value: k.isPath ? paths(value, folder: folder, home: home) : value, source: "\(file):\(line)")
            }
        }
        for k in Key.allCases {
            if let v = environment[k.environment] {
                config.settings[k] = Setting(value: k.isPath ? paths(v, folder: currentFolder, home: home) : v, source: k.environment)
            }
        }
        if let m = config[.becomeMethod], m.value != "sudo" {
            throw ConfigError(file: m.source, "become_method \"\(m.value)\" is not supported (fleetup becomes with sudo only)")
        }
        return config
    }

    static func find(environment: [String: String], currentFolder: String, home: String, warnings: inout [String]) -> String? {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if let named = environment["ANSIBLE_CONFIG"], !named.isEmpty {
            let path = expand(named, home: home)
            if fm.fileExists(atPath: path, isDirectory: &isDir) { return isDir.boolValue ? path + "/ansible.cfg" : path }
        }
        let here = currentFolder + "/ansible.cfg"
        if fm.fileExists(atPath: here) {
            var st = stat()
            if stat(currentFolder, &st) == 0, st.st_mode & S_IWOTH != 0 {
                warnings.append(
                    "ansible.cfg in the world-writable folder \(currentFolder) is ignored, as Ansible ignores it (anyone could have written it)"
                )
            } else {
                return here
            }
        }
        for path in [home + "/.ansible.cfg", "/etc/ansible/ansible.cfg"] where fm.fileExists(atPath: path) { return path }
        return nil
    }

    /// `[section]` and `key = value` / `key: value` lines (configparser's rules as Ansible
    /// sets them up: `#` and `;` start a comment line; ` ;` starts an inline comment).
    static func parse(_ text: String) -> [(section: String, key: String, value: String, line: Int)] {
        var out: [(String, String, String, Int)] = []
        var section = ""
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = line[..<sep].trimmingCharacters(in: .whitespaces).lowercased()
            var value = String(line[line.index(after: sep)...])
            if let c = value.range(of: " ;") ?? value.range(of: "\t;") { value = String(value[..<c.lowerBound]) }
            out.append((section, key, value.trimmingCharacters(in: .whitespaces), i + 1))
        }
        return out
    }

    static func expand(_ path: String, home: String) -> String {
        path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }

    /// A path list (inventory: comma-separated) with `~` expanded and relative paths taken
    /// from `folder`.
    static func paths(_ value: String, folder: String, home: String) -> String {
        value.split(separator: ",").map { part in
            let p = expand(part.trimmingCharacters(in: .whitespaces), home: home)
            return p.hasPrefix("/") || p.isEmpty ? p : folder + "/" + p
        }.joined(separator: ",")
    }
}
