import FleetCore
import FleetLocal
import FleetVault
import Foundation
import Yams

/// Loads the inventories given with `-i`, as Ansible would: INI and YAML files, a folder
/// (every inventory file in it, in name order), or a comma list of hosts (`-i 'h1,h2,'`).
/// Several sources are merged in order; `group_vars/` and `host_vars/` beside each source
/// are applied in Ansible's precedence (see `InventoryBuilder`).
///
/// All or nothing: any error in any source throws, so a caller never sees half a fleet.
public enum InventoryLoader {
    /// Loads and drops the warnings; prefer `load(_:warnings:)` where they can be shown.
    public static func load(_ sources: [String]) throws -> Inventory {
        var ignored: [ConfigWarning] = []
        return try load(sources, warnings: &ignored)
    }

    /// Loads, appending to `warnings` what Ansible would only warn about. `vault`: the
    /// passwords of vault-encrypted files and `!vault` values (nil: none were given).
    public static func load(_ sources: [String], vault: VaultKeyring? = nil, warnings: inout [ConfigWarning]) throws -> Inventory {
        var builder = InventoryBuilder()
        var basedirs: [String?] = []
        for source in sources {
            basedirs.append(try add(source, to: &builder, vault: vault, warnings: &warnings))
        }
        var vars = VarsFiles(vault: vault)
        for (n, dir) in basedirs.enumerated() {
            if let dir { try vars.load(basedir: dir, source: n, into: &builder) }
        }
        warnings += vars.warnings
        let label = sources.joined(separator: ", ")
        for name in builder.hostNames where builder.hasGroup(name) {
            warnings.append(
                ConfigWarning(
                    file: label, "\"\(name)\" is both a group and a host; the pattern \"\(name)\" selects the host, as in Ansible"))
        }
        return try (consume builder).build(label: label)  // consumed: build() moves the hosts' own vars out
    }

    /// Reads one `-i` value; returns the folder whose group_vars/host_vars apply to it.
    static func add(
        _ source: String, to builder: inout InventoryBuilder, vault: VaultKeyring?, warnings: inout [ConfigWarning]
    ) throws -> String? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDir) else {
            // Ansible's host_list: a source that is not a path and holds a comma.
            guard source.contains(",") else {
                throw ConfigError(file: source, "no such inventory file or folder (a list of hosts needs a comma: -i 'host1,')")
            }
            try hostList(source, into: &builder)
            return nil
        }
        if isDir.boolValue {
            var seen = FolderSet()
            try folder(source, into: &builder, vault: vault, warnings: &warnings, seen: &seen)
            return source
        }
        try file(source, into: &builder, vault: vault, warnings: &warnings)
        return (source as NSString).deletingLastPathComponent.isEmpty ? "." : (source as NSString).deletingLastPathComponent
    }

    /// `-i 'web1,web2:2200,db[1:2],'`: ungrouped hosts. Hosts already known keep their
    /// settings, as Ansible's host_list plugin does.
    static func hostList(_ source: String, into builder: inout InventoryBuilder) throws {
        for item in source.split(separator: ",") {
            let entry = item.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            let (names, port) = try INIInventory.hosts(entry, file: "-i", line: nil)
            for name in names where !builder.hasHost(name) {
                builder.addHost(name, to: "ungrouped", port: port)
            }
            if let problem = builder.tooManyHosts { throw ConfigError(file: "-i", problem) }
        }
    }

    /// Every inventory file of a folder, in name order, recursively; hidden files, the vars
    /// folders and Ansible's ignored extensions (`.md`, `.txt`, `.cfg`, `~`...) are skipped.
    ///
    /// Each folder is read once: one reached again through a symlink (a loop such as
    /// `self -> .`, which walked forever, or a second link to it) is skipped with a warning.
    static func folder(
        _ path: String, into builder: inout InventoryBuilder, vault: VaultKeyring?, warnings: inout [ConfigWarning],
        seen: inout FolderSet
    ) throws {
        if let first = seen.visit(path) {
            warnings.append(
                ConfigWarning(file: path, "skipped: the same folder as \(first), already read (a symlink to it, or a symlink loop)"))
            return
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw ConfigError(file: path, "cannot list the folder")
        }
        for name in names.sorted(by: PythonJSON.codePointLess) where !ignored(name) {
            let full = path.hasSuffix("/") ? path + name : path + "/" + name
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                try folder(full, into: &builder, vault: vault, warnings: &warnings, seen: &seen)
            } else {
                try file(full, into: &builder, vault: vault, warnings: &warnings)
            }
        }
    }

    static let ignoredExtensions = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]

    static func ignored(_ name: String) -> Bool {
        name.hasPrefix(".") || ["host_vars", "group_vars", "vars_plugins"].contains(name)
            || ignoredExtensions.contains { name.hasSuffix($0) }
    }

    /// One inventory file. `.yml`/`.yaml`/`.json` are YAML; a file without extension is
    /// YAML when it reads as a YAML mapping, INI otherwise; anything else is INI.
    ///
    /// A vault-encrypted file is decrypted first; its variables' values are secrets (its hosts
    /// and groups are not: they name the fleet).
    static func file(_ path: String, into builder: inout InventoryBuilder, vault: VaultKeyring?, warnings: inout [ConfigWarning]) throws {
        var text = try text(of: path)
        let encrypted = VaultText.isVault(text)
        if encrypted { text = try decrypt(text, file: path, vault: vault) }
        builder.sealing = encrypted
        defer { builder.sealing = false }
        let ext = VarsFiles.pathExtension((path as NSString).lastPathComponent)
        if ext == ".toml" {
            throw ConfigError(file: path, "TOML inventories are not supported; give an INI or YAML inventory")
        }
        if text.hasPrefix("#!"), FileManager.default.isExecutableFile(atPath: path) {
            throw ConfigError(file: path, line: 1, "inventory scripts are not run by fleetup; save the script's output as a YAML inventory")
        }
        let yaml: Bool
        var root: Yams.Node? = nil
        if [".yml", ".yaml", ".json"].contains(ext) {
            root = try YAMLInventory.compose(text, file: path)
            yaml = true
        } else if ext.isEmpty, let r = try? YAMLInventory.compose(text, file: path), r.mapping != nil {
            root = r
            yaml = true
        } else {
            yaml = false
        }
        if yaml {
            var reader = YAMLInventory(file: path, vault: vault)
            try reader.read(root, into: &builder)
            warnings += reader.warnings
            try builder.count(items: try YAMLItems.check(text, file: path), label: path)
        } else {
            var reader = INIInventory(file: path)
            try reader.read(text, into: &builder)
            warnings += reader.warnings
            try builder.count(items: reader.items, label: path)
        }
    }

    /// The text a vault-encrypted file holds, or an error naming the file.
    static func decrypt(_ text: String, file: String, vault: VaultKeyring?) throws(ConfigError) -> String {
        do {
            var plain = try (vault ?? .none).decrypt(text)
            if plain.hasPrefix("\u{FEFF}") { plain.removeFirst() }
            return plain
        } catch {
            throw ConfigError(file: file, line: 1, "vault-encrypted file: \(error)")
        }
    }

    /// A file's text: UTF-8 (a byte-order mark is dropped), or an error naming the file.
    /// At most `ConfigLimits.fileBytes`, and never from a device (`-i /dev/zero` read
    /// forever): `InputFile` decides what is read.
    static func text(of path: String) throws(ConfigError) -> String {
        let bytes: [UInt8]
        do { bytes = try InputFile.read(path, limit: ConfigLimits.fileBytes) } catch {
            throw ConfigError(file: path, error.message)
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: path, "the file is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return text
    }
}

/// Folders already walked, by device and inode (what a symlink cannot disguise), so that
/// a walk reads each folder once.
struct FolderSet {
    private var seen: [String: String] = [:]

    /// Records `path`; returns the path it was first read as when it was read before.
    mutating func visit(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let key = "\(info.st_dev):\(info.st_ino)"
        if let first = seen[key] { return first }
        seen[key] = path
        return nil
    }
}
