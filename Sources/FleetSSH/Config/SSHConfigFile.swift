/// One ssh_config file, read and checked once: its lines in order, Include lines already
/// replaced by the files they name. Which lines apply is decided per host, later
/// (`SSHConfigEvaluation`), so hundreds of hosts cost one read.
struct SSHConfigFile: Sendable, Hashable {
    var path: String
    var entries: [Entry]

    struct Entry: Sendable, Hashable {
        var line: Int
        var kind: Kind
    }

    enum Kind: Sendable, Hashable {
        /// `Host pattern...`: the words as written (`!` excludes).
        case host([String])
        case match(SSHMatch)
        /// `Include`: the files its globs matched, in order, each read already.
        case include([SSHConfigFile])
        case setting(SSHSetting)
    }

    /// True when a `Match ... final` line is anywhere in the file or the files it includes:
    /// OpenSSH then reads the configuration a second time, matching `Host` lines against
    /// the final host name.
    var asksForFinalPass: Bool {
        entries.contains { e in
            switch e.kind {
            case .match(let m): return m.criteria.contains { $0.criterion == .final }
            case .include(let files): return files.contains(where: \.asksForFinalPass)
            default: return false
            }
        }
    }
}

/// A `Match` line: every criterion must hold (each may be negated with `!`).
struct SSHMatch: Sendable, Hashable {
    enum Criterion: Sendable, Hashable {
        case all
        /// Only during the second reading (after CanonicalizeHostname, or when asked by `final`).
        case canonical, final
        /// Against the host name after HostName (`%h` expanded), case-insensitively.
        case host(String)
        /// Against the name as given (the inventory's ansible_host, or its name).
        case originalHost(String)
        /// Against the remote user as set so far (else the local user).
        case user(String)
        case localUser(String)
        /// `exec` (fleetup runs no local commands to decide) and criteria of later OpenSSH
        /// versions (`localnetwork`, `tagged`, `version`, ...): the line never matches,
        /// negated or not, and a warning says so.
        case unsupported(String)
    }

    struct Term: Sendable, Hashable {
        var negated: Bool
        var criterion: Criterion
    }

    var criteria: [Term]

    typealias Problem = SSHConfigLine.Problem

    /// Criteria OpenSSH versions after 9.2 added; they take one argument.
    private static let later: Set<String> = ["localnetwork", "tagged", "version", "sessiontype", "command"]

    /// OpenSSH's rules (`match_cfg_line`): `all` stands alone or right after `canonical`
    /// or `final`; every other criterion but those two takes one argument.
    static func parse(_ words: [String]) throws(Problem) -> SSHMatch {
        var terms: [Term] = []
        var i = 0
        while i < words.count {
            var word = words[i]
            i += 1
            let negated = word.hasPrefix("!")
            if negated { word.removeFirst() }
            let name = word.lowercased()
            if name == "all" {
                // As ssh 9.2 checks it: at most one criterion before, nothing after.
                guard terms.count <= 1, i == words.count else {
                    throw Problem(message: "match: 'all' cannot be combined with other criteria (except one of canonical, final before it)")
                }
                terms.append(Term(negated: negated, criterion: .all))
                continue
            }
            if name == "canonical" || name == "final" {
                terms.append(Term(negated: negated, criterion: name == "final" ? .final : .canonical))
                continue
            }
            let known = ["host", "originalhost", "user", "localuser", "exec"]
            guard known.contains(name) || Self.later.contains(name) else {
                throw Problem(
                    message:
                        "match: unsupported criterion \"\(word)\" (expected all, canonical, final, exec, host, originalhost, user or localuser)"
                )
            }
            guard i < words.count, !words[i].isEmpty else { throw Problem(message: "match: missing argument after \"\(word)\"") }
            let arg = words[i]
            i += 1
            let c: Criterion
            switch name {
            case "host": c = .host(arg)
            case "originalhost": c = .originalHost(arg)
            case "user": c = .user(arg)
            case "localuser": c = .localUser(arg)
            default: c = .unsupported(name)
            }
            terms.append(Term(negated: negated, criterion: c))
        }
        guard !terms.isEmpty else { throw Problem(message: "match: expected criteria (all, host, user, ...)") }
        return SSHMatch(criteria: terms)
    }
}
