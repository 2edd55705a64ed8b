/// Which lines of the files apply to one destination, and what they set: OpenSSH 9.2's
/// reading of the configuration for `ssh HOST`, without connecting.
///
/// 1. Options from the command line are already in `options` (first value wins).
/// 2. The files are read in order. A `Host` line matches the name as given (case-sensitive),
///    a `Match` line as its criteria say; the lines after either apply until the next one.
///    An Include applies the included files where it stands (only if its block applies),
///    and their Host/Match lines do not change the including file's state.
/// 3. The host name is HostName (its `%h` is the name as given), else the name, in lower case.
/// 4. If a `Match final` line exists anywhere, or CanonicalizeHostname is on, the files
///    are read again, `Host` lines now matching the host name of step 3 and `Match final`
///    / `Match canonical` matching too (fleetup does no DNS canonicalization itself).
struct SSHConfigEvaluation {
    let files: [SSHConfigFile]
    let environment: SSHConfigEnvironment

    /// What one destination resolves to, before expansions: what `ssh -G` shows.
    struct Result: Sendable, Hashable {
        /// The name as given (`%n`).
        var hostArgument: String
        /// The host name after HostName, lower case (`%h`).
        var hostName: String
        var options: SSHOptions
    }

    private struct Pass {
        var hostForHostLines: String
        var hostArgument: String
        var final: Bool
    }

    func resolve(_ hostArgument: String, commandLine: SSHOptions) throws(SSHConfigError) -> Result {
        var options = commandLine
        let first = Pass(hostForHostLines: hostArgument, hostArgument: hostArgument, final: false)
        for f in files { try apply(f, pass: first, options: &options, active: true) }
        let host = try hostName(options, hostArgument).lowercased()
        if options.canonicalizeHostname == true || files.contains(where: \.asksForFinalPass) {
            options.hostName = .init(value: host, origin: options.hostName?.origin ?? .flag("host name"))
            let final = Pass(hostForHostLines: host, hostArgument: hostArgument, final: true)
            for f in files { try apply(f, pass: final, options: &options, active: true) }
        }
        return Result(hostArgument: hostArgument, hostName: host, options: options)
    }

    /// HostName with its `%h` (the name as given) and `%%` expanded, or the name itself.
    private func hostName(_ options: SSHOptions, _ hostArgument: String) throws(SSHConfigError) -> String {
        guard let h = options.hostName else { return hostArgument }
        do { return try SSHTokens.expand(h.value, ["h": hostArgument]) } catch { throw h.origin.error("hostname: \(error.message)") }
    }

    private func apply(
        _ file: SSHConfigFile, pass: Pass, options: inout SSHOptions,
        active initial: Bool
    ) throws(SSHConfigError) {
        var active = initial
        for entry in file.entries {
            switch entry.kind {
            case .host(let patterns):
                active = SSHPattern.hostLine(patterns, matches: pass.hostForHostLines)
            case .match(let m):
                active = try matches(m, pass: pass, options: options, file: file.path, line: entry.line)
            case .include(let included):
                guard active else { continue }
                for f in included { try apply(f, pass: pass, options: &options, active: true) }
            case .setting(let s):
                if active { options.apply(s, origin: .file(file.path, line: entry.line)) }
            }
        }
    }

    private func matches(
        _ m: SSHMatch, pass: Pass, options: SSHOptions, file: String,
        line: Int
    ) throws(SSHConfigError) -> Bool {
        var result = true
        for term in m.criteria {
            let hit: Bool
            switch term.criterion {
            case .all: hit = true
            case .canonical, .final: hit = pass.final
            case .host(let list):
                let host = pass.final ? pass.hostForHostLines : try hostName(options, pass.hostArgument)
                hit = SSHPattern.list(list, host, lowercase: true) == .positive
            case .originalHost(let list):
                hit = SSHPattern.list(list, pass.hostArgument, lowercase: true) == .positive
            case .user(let list):
                hit = SSHPattern.list(list, options.user?.value ?? environment.localUser, lowercase: false) == .positive
            case .localUser(let list):
                hit = SSHPattern.list(list, environment.localUser, lowercase: false) == .positive
            case .unsupported:
                return false
            }
            if hit == term.negated { result = false }
        }
        return result
    }
}
