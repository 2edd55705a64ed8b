/// Reads ssh_config files with OpenSSH 9.2's rules: every line is checked (in blocks that
/// do not apply too), `Include` globs are read where they stand (relative to `~/.ssh` for
/// user files, `/etc/ssh` for the system one; sorted; none matching is fine), at most 16
/// levels deep, and an included file (or `~/.ssh/config`) that another user can write is
/// refused as ssh refuses it.
struct SSHConfigLoader {
    var environment: SSHConfigEnvironment
    /// Problems that do not stop the run: unknown keywords, `Match exec`.
    private(set) var warnings: [SSHConfigError] = []
    /// IgnoreUnknown patterns in reading order; an unknown keyword after one that matches
    /// it is not worth a warning.
    private var ignoreUnknown: [String] = []
    private var filesRead = 0

    static let maxDepth = 16
    /// A guard against Include fan-out (a glob of files that each include the glob again).
    static let maxFiles = 512

    init(environment: SSHConfigEnvironment) {
        self.environment = environment
    }

    /// Reads one top-level file. `userFile`: a user's file (`~/.ssh/config`, `-F`,
    /// `--ssh-config`), whose relative Includes live in `~/.ssh`; `required`: a missing file
    /// is an error (files named by the operator); `checkPermissions`: as OpenSSH does for
    /// `~/.ssh/config`.
    mutating func load(
        _ path: String, userFile: Bool, required: Bool,
        checkPermissions: Bool
    ) throws(SSHConfigError) -> SSHConfigFile? {
        try read(path, userFile: userFile, required: required, checkPermissions: checkPermissions, depth: 0)
    }

    private mutating func read(
        _ path: String, userFile: Bool, required: Bool, checkPermissions: Bool,
        depth: Int
    ) throws(SSHConfigError) -> SSHConfigFile? {
        filesRead += 1
        guard filesRead <= Self.maxFiles else {
            throw SSHConfigError(file: path, line: nil, "more than \(Self.maxFiles) files read through Include (an Include loop?)")
        }
        let text: String
        switch environment.files.read(path) {
        case .missing:
            if required { throw SSHConfigError(file: path, line: nil, "no such file") }
            return nil
        case .failed(let why):
            throw SSHConfigError(file: path, line: nil, "cannot read the file: \(why)")
        case .text(let t, let owner, let mode):
            if checkPermissions && ((owner != 0 && owner != environment.userID) || mode & 0o022 != 0) {
                throw SSHConfigError(
                    file: path, line: nil,
                    "bad owner or permissions: it must belong to you (or root) and be writable by no one else (chmod go-w), as ssh requires"
                )
            }
            text = t
        }
        var entries: [SSHConfigFile.Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            func problem(_ message: String) -> SSHConfigError { SSHConfigError(file: path, line: lineNumber, message) }
            let parsed: SSHConfigLine?
            do { parsed = try SSHConfigLine.parse(raw) } catch { throw problem(error.message) }
            guard let line = parsed else { continue }
            switch line.keyword {
            case "host":
                guard !line.arguments.isEmpty else { throw problem("host: expected one or more patterns") }
                if line.arguments.contains("") { throw problem("host: empty pattern") }
                entries.append(.init(line: lineNumber, kind: .host(line.arguments)))
            case "match":
                let match: SSHMatch
                do { match = try SSHMatch.parse(line.arguments) } catch { throw problem(error.message) }
                for term in match.criteria {
                    if case .unsupported(let name) = term.criterion {
                        warnings.append(problem("match \(name): not evaluated by fleetup; this Match block never applies"))
                    }
                }
                entries.append(.init(line: lineNumber, kind: .match(match)))
            case "include":
                guard !line.arguments.isEmpty, !line.arguments.contains("") else { throw problem("include: missing file name") }
                var files: [SSHConfigFile] = []
                for pattern in line.arguments {
                    if pattern.hasPrefix("~") && !userFile {
                        throw problem("include: a system file cannot include \(pattern) (only user files may use ~)")
                    }
                    var full = pattern
                    if !pattern.hasPrefix("/") && !pattern.hasPrefix("~") {
                        full = (userFile ? environment.home + "/.ssh/" : environment.systemDirectory + "/") + pattern
                    }
                    do { full = try SSHTokens.expandTilde(full, home: environment.home) } catch {
                        throw problem("include: \(error.message)")
                    }
                    for match in environment.files.glob(full) {
                        guard depth + 1 <= Self.maxDepth else {
                            throw problem("include: more than \(Self.maxDepth) levels of Include (an Include loop?)")
                        }
                        if let f = try read(match, userFile: userFile, required: false, checkPermissions: true, depth: depth + 1) {
                            files.append(f)
                        }
                    }
                }
                entries.append(.init(line: lineNumber, kind: .include(files)))
            default:
                let kind: SSHKeywordLine
                do { kind = try SSHSetting.parse(line, environment: environment.variables) } catch { throw problem(error.message) }
                switch kind {
                case .setting(let s):
                    if case .ignoreUnknown(let list) = s { ignoreUnknown.append(list) }
                    entries.append(.init(line: lineNumber, kind: .setting(s)))
                case .ignored:
                    break
                case .unknown(let keyword):
                    if !ignoreUnknown.contains(where: { SSHPattern.list($0, keyword, lowercase: true) == .positive }) {
                        warnings.append(
                            problem("unknown keyword \"\(keyword)\" ignored (ssh itself refuses it unless IgnoreUnknown names it)"))
                    }
                }
            }
        }
        return SSHConfigFile(path: path, entries: entries)
    }
}
