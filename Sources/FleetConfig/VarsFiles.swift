import FleetCore
import FleetLocal
import FleetVault
import Foundation
import Synchronization

/// `group_vars/` and `host_vars/` beside an inventory source, found as Ansible's
/// `host_group_vars` plugin finds them: for an entity `web`, the first of `web` (a file, or
/// a folder read recursively in sorted order), `web.yml`, `web.yaml`, `web.json`.
/// Each folder is listed once, so 10,000 hosts cost one directory read, not 40,000 stats.
struct VarsFiles {
    private var listings: [String: [String: Bool]?] = [:]  // folder -> name -> is a folder
    private var parsed: [String: [String: VarValue]] = [:]
    /// Items of the files parsed by the last `parseAll`.
    private var parsedItems = 0
    var warnings: [ConfigWarning] = []
    /// The passwords of vault-encrypted files and `!vault` values.
    let vault: VaultKeyring?

    init(vault: VaultKeyring?) { self.vault = vault }

    /// Reads the vars files of source number `source`, whose folder is `basedir`.
    mutating func load(basedir: String, source: Int, into builder: inout InventoryBuilder) throws(ConfigError) {
        let base = URL(fileURLWithPath: basedir).resolvingSymlinksInPath().path
        var found: [(name: String, isGroup: Bool, file: String)] = []
        for (sub, isGroup) in [("group_vars", true), ("host_vars", false)] {
            let folder = base + "/" + sub
            guard let entries = listing(folder, warnIfFile: true, label: sub) else { continue }
            // Entity -> its entry, decided once per folder: `web` beats `web.yml`, which
            // beats `web.yaml`, which beats `web.json` (Ansible's find_vars_files order).
            var byEntity: [String: (rank: Int, entry: String, isDir: Bool)] = [:]
            for (entry, isDir) in entries {
                for (rank, ext) in ["", ".yml", ".yaml", ".json"].enumerated() where ext.isEmpty || entry.hasSuffix(ext) {
                    let entity = String(entry.dropLast(ext.count))
                    if entity.isEmpty { continue }
                    if let known = byEntity[entity], known.rank <= rank { continue }
                    byEntity[entity] = (rank, entry, isDir)
                }
            }
            let names = isGroup ? builder.groupNames : builder.hostNames
            for name in names where !name.hasPrefix("/") {
                guard let hit = byEntity[name] else { continue }
                let path = folder + "/" + hit.entry
                var seen = FolderSet()
                for file in hit.isDir ? folderFiles(path, seen: &seen) : [path] { found.append((name, isGroup, file)) }
            }
        }
        try parseAll(found.map(\.file).filter { parsed[$0] == nil }, budget: ConfigLimits.totalItems - builder.items, label: base)
        try builder.count(items: parsedItems, label: base)
        parsedItems = 0
        for f in found {
            let vars = parsed[f.file] ?? [:]
            if f.isGroup {
                builder.addGroupFileVars(f.name, source: source, vars)
            } else {
                builder.addHostFileVars(f.name, source: source, vars)
            }
        }
    }

    /// Parses files on every core (a fleet with a host_vars file per host has thousands),
    /// then reports the first problem in file order, so the message does not depend on timing.
    /// The workers stop once the files hold more than `budget` items in all (parsed ones are
    /// kept until the end): then the error names the folder, not a file that timing chose.
    private mutating func parseAll(_ paths: [String], budget: Int, label: String) throws(ConfigError) {
        var seen = Set<String>()
        let unique = paths.filter { seen.insert($0).inserted }
        let used = Atomic<Int>(0)
        // Past the budget the workers stop parsing (nil): the error below names the folder.
        let vault = self.vault
        let results = Parallel.map(unique.count, minimumPerWorker: 8) { i -> Result<Parsed, ConfigError>? in
            guard used.load(ordering: .relaxed) <= budget else { return nil }
            let r = Result { () throws(ConfigError) in try Self.parse(unique[i], vault: vault) }
            if case .success(let p) = r { used.add(p.items, ordering: .relaxed) }
            return r
        }
        if used.load(ordering: .relaxed) > budget {
            throw ConfigError(
                file: label,
                "more than \(ConfigLimits.totalItems) items (lines, entries, variables) in all the inventory's files (the limit: what stays loaded)"
            )
        }
        parsedItems = used.load(ordering: .relaxed)
        for (i, path) in unique.enumerated() {
            switch results[i]! {
            case .success(let p): parsed[path] = p.vars; warnings += p.warnings
            case .failure(let e): throw e
            }
        }
    }

    private struct Parsed: Sendable {
        var vars: [String: VarValue]
        var warnings: [ConfigWarning]
        var items = 0
    }

    /// Files of a vars folder, recursively, sorted, without hidden files, `~` backups or
    /// files whose extension is not YAML/JSON (Ansible's `_get_dir_vars_files`).
    /// Each folder once: one reached again through a symlink is skipped with a warning.
    private mutating func folderFiles(_ path: String, seen: inout FolderSet) -> [String] {
        if let first = seen.visit(path) {
            warnings.append(
                ConfigWarning(file: path, "skipped: the same folder as \(first), already read (a symlink to it, or a symlink loop)"))
            return []
        }
        guard let entries = listing(path, warnIfFile: false, label: "") else { return [] }
        var out: [String] = []
        for name in entries.keys.sorted(by: PythonJSON.codePointLess) where !name.hasPrefix(".") && !name.hasSuffix("~") {
            let ext = Self.pathExtension(name)
            let full = path + "/" + name
            if entries[name]! {
                if ext.isEmpty { out.append(contentsOf: folderFiles(full, seen: &seen)) }
            } else if ext.isEmpty || [".yml", ".yaml", ".json"].contains(ext) {
                out.append(full)
            }
        }
        return out
    }

    private mutating func listing(_ folder: String, warnIfFile: Bool, label: String) -> [String: Bool]? {
        if let cached = listings[folder] { return cached }
        var isDir: ObjCBool = false
        var result: [String: Bool]? = nil
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
            if isDir.boolValue {
                result = Self.entries(of: folder)
            } else if warnIfFile {
                warnings.append(ConfigWarning(file: folder, "\(label) is a file, not a folder; skipped (as Ansible does)"))
            }
        }
        listings[folder] = result
        return result
    }

    /// A folder's entries and whether each is a folder, from readdir's d_type (a stat only
    /// for symlinks and file systems that do not say): one host_vars folder can hold
    /// thousands of files.
    static func entries(of folder: String) -> [String: Bool] {
        guard let dir = opendir(folder) else { return [:] }
        defer { closedir(dir) }
        var map: [String: Bool] = [:]
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): map[name] = true
            case Int32(DT_REG): map[name] = false
            default:
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDir) { map[name] = isDir.boolValue }
            }
        }
        return map
    }

    /// One vars file: a YAML (or JSON) mapping; an empty file adds nothing. A vault-encrypted
    /// file is decrypted first, and every value in it is a secret.
    private static func parse(_ path: String, vault: VaultKeyring?) throws(ConfigError) -> Parsed {
        var warnings: [ConfigWarning] = []
        var text = try InventoryLoader.text(of: path)
        let encrypted = VaultText.isVault(text)
        if encrypted { text = try InventoryLoader.decrypt(text, file: path, vault: vault) }
        let items = try YAMLItems.check(text, file: path)  // the fast path below holds as many entries
        if let simple = SimpleVarsFile.parse(text, file: path) {
            return Parsed(vars: encrypted ? simple.mapValues(\.sealed) : simple, warnings: [], items: items)
        }
        var vars: [String: VarValue] = [:]
        if let root = try YAMLInventory.compose(text, file: path) {
            switch try YAMLValue.value(root, file: path, warnings: &warnings, vault: vault) {
            case .map(let m): vars = m
            case .null: break
            default:
                throw ConfigError(file: path, line: root.mark?.line, "expected a mapping of variables (name: value)")
            }
        }
        return Parsed(vars: encrypted ? vars.mapValues(\.sealed) : vars, warnings: warnings, items: items)
    }

    /// Python's `os.path.splitext(name)[1]`: leading dots do not start an extension.
    static func pathExtension(_ name: String) -> String {
        let trimmed = name.drop { $0 == "." }
        guard let dot = trimmed.lastIndex(of: ".") else { return "" }
        return String(trimmed[dot...])
    }
}
