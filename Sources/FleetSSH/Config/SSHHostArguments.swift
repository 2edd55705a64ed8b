import FleetCore

/// The flags of one fleetup run that bear on connections; nil when not given.
///
/// `user` and `identityFile` (`-u`, `--private-key`) stand in for a host's inventory
/// variables when it has none, as Ansible's `-u` and `--private-key` do. The others apply to
/// every connection, jump hops included, and win over everything else that sets the same
/// thing (ssh_config, and a host's `ansible_ssh_common_args: -o ...`): they were typed for
/// this run.
public struct SSHRunFlags: Sendable, Hashable {
    public var user: String?
    public var identityFile: String?
    public var knownHostsFiles: [String]?
    public var hostKeyPolicy: HostKeyPolicy?
    public var connectTimeout: Duration?
    /// ansible.cfg's `ssh_args` and `ssh_common_args` ([ssh_connection]): what a host whose
    /// inventory sets no `ansible_ssh_args` / `ansible_ssh_common_args` gets, as in Ansible.
    public var sshArgs: String?
    public var sshCommonArgs: String?

    public init(
        user: String? = nil, identityFile: String? = nil, knownHostsFiles: [String]? = nil,
        hostKeyPolicy: HostKeyPolicy? = nil, connectTimeout: Duration? = nil, sshArgs: String? = nil, sshCommonArgs: String? = nil
    ) {
        self.user = user
        self.identityFile = identityFile
        self.knownHostsFiles = knownHostsFiles
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.sshArgs = sshArgs
        self.sshCommonArgs = sshCommonArgs
    }
}

/// What a host's inventory variables put on ssh's command line, in the order Ansible's ssh
/// connection plugin writes it: `ansible_ssh_args`, `-o StrictHostKeyChecking=no` when
/// `ansible_host_key_checking` is false, `-o Port=` `-o IdentityFile=` `-o User=` from the
/// connection variables, then `ansible_ssh_common_args` and `ansible_ssh_extra_args`, then
/// the host (`ansible_host`, else the inventory name). fleetup's own `jump:` variable comes
/// first, as a `-J`. Command-line options win over ssh_config (the first value wins).
struct SSHHostArguments: Sendable {
    /// The name ssh is given: what ssh_config's Host lines are matched against.
    var hostArgument: String
    var options = SSHOptions()
    /// The last `-F` in the arguments: the only ssh_config file for this host.
    var configFile: String?
    /// Problems that do not stop the host (an `-i` file that does not exist).
    var warnings: [SSHConfigError] = []
    private let environment: SSHConfigEnvironment

    private static let variableNames = ["ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args"]

    init(_ host: Host, flags: SSHRunFlags, environment: SSHConfigEnvironment) throws(SSHConfigError) {
        self.environment = environment
        let vars = host.vars
        func text(_ names: String...) -> (name: String, value: String)? {
            for n in names { if let v = vars[n]?.scalarText, !v.isEmpty { return (n, v) } }
            return nil
        }
        func origin(_ name: String) -> SSHConfigOrigin { .variable(name, host: host.name) }
        hostArgument = text("ansible_host", "ansible_ssh_host")?.value ?? host.name
        // A NUL would cut the address where it is resolved (the inventory refuses it in names).
        if let address = text("ansible_host", "ansible_ssh_host"), let problem = ControlCharacters.problem(in: address.value) {
            throw SSHConfigError(.variable(address.name, host: host.name), "\(problem) (expected a host name or an address)")
        }

        if let jump = text("jump") {
            do { options.apply(.proxyJump(try SSHJumpSpec.parse(jump.value)), origin: origin(jump.name)) } catch {
                throw SSHConfigError(.variable(jump.name, host: host.name), "invalid jump host \"\(jump.value)\": \(error.message)")
            }
        }
        if let args = text("ansible_ssh_args") {
            try words(args.value, from: args.name, host: host.name)
        } else if let args = flags.sshArgs {
            try words(args, from: "ansible.cfg ssh_args", host: host.name)
        }
        for name in ["ansible_host_key_checking", "ansible_ssh_host_key_checking"] {
            if vars[name]?.boolValue == false { options.apply(.strictHostKeyChecking(.no), origin: origin(name)); break }
        }
        if let port = text("ansible_port", "ansible_ssh_port") {
            do { options.apply(.port(try SSHSetting.port(port.value, keyword: "port")), origin: origin(port.name)) } catch {
                throw SSHConfigError(.variable(port.name, host: host.name), "expected a port (1-65535), got \"\(port.value)\"")
            }
        }
        if let key = text("ansible_ssh_private_key_file", "ansible_private_key_file") {
            options.apply(.identityFile(key.value), origin: origin(key.name), explicit: true)
        } else if let key = flags.identityFile {
            options.apply(.identityFile(key), origin: .flag("--private-key"), explicit: true)
        }
        if let user = text("ansible_user", "ansible_ssh_user") {
            options.apply(.user(user.value), origin: origin(user.name))
        } else if let user = flags.user {
            options.apply(.user(user), origin: .flag("--user"))
        }
        for name in Self.variableNames.dropFirst() {
            if let args = text(name) {
                try words(args.value, from: name, host: host.name)
            } else if name == "ansible_ssh_common_args", let args = flags.sshCommonArgs {
                try words(args, from: "ansible.cfg ssh_common_args", host: host.name)
            }
        }
    }

    /// ssh's options that take a value (`getopt` string of OpenSSH 9.2).
    private static let withValue = Set("bcDeEFiIJlLmoOpQRSwWB")

    /// Reads ssh command-line words as ssh does: `-o Keyword=value` as a config line,
    /// `-J`, `-F`, `-i`, `-l`, `-p`; other options are skipped with their values.
    private mutating func words(_ text: String, from name: String, host: String) throws(SSHConfigError) {
        func problem(_ m: String) -> SSHConfigError { SSHConfigError(.variable(name, host: host), m) }
        let origin = SSHConfigOrigin.variable(name, host: host)
        let words: [String]
        do { words = try Shlex.split(text, comments: false) } catch { throw problem("\(error.message) in \(text)") }
        var i = 0
        while i < words.count {
            let word = words[i]
            i += 1
            guard word.hasPrefix("-"), word.count > 1 else { throw problem("unexpected \"\(word)\" (only ssh options belong here)") }
            if word == "--" { throw problem("unexpected \"--\" (only ssh options belong here)") }
            var letters = word.dropFirst()
            while let letter = letters.popFirst() {
                guard Self.withValue.contains(letter) else { continue }
                let value: String
                if !letters.isEmpty {
                    value = String(letters); letters = ""
                } else if i < words.count {
                    value = words[i]; i += 1
                } else {
                    throw problem("-\(letter) needs a value")
                }
                try option(letter, value, origin: origin, problem: problem)
            }
        }
    }

    private mutating func option(
        _ letter: Character, _ value: String, origin: SSHConfigOrigin,
        problem: (String) -> SSHConfigError
    ) throws(SSHConfigError) {
        switch letter {
        case "o":
            let parsed: SSHConfigLine?
            do { parsed = try SSHConfigLine.parse(value[...]) } catch { throw problem("-o \(value): \(error.message)") }
            guard let line = parsed else { return }
            if ["host", "match", "include"].contains(line.keyword) {
                throw problem("-o \(value): \(line.keyword) cannot be given on the command line")
            }
            let kind: SSHKeywordLine
            do { kind = try SSHSetting.parse(line, environment: [:]) } catch { throw problem("-o \(value): \(error.message)") }
            switch kind {
            case .setting(let s): options.apply(s, origin: origin, explicit: true)
            case .ignored: break
            case .unknown(let k): throw problem("-o \(value): unknown ssh option \"\(k)\"")
            }
        case "J":
            if options.jump?.origin.isJumpVariable == true { return }  // fleetup's `jump:` variable wins
            if options.jump != nil { throw problem("only one -J is allowed (separate hops with commas)") }
            if options.proxyCommand != nil { throw problem("-J cannot be combined with ProxyCommand") }
            do { options.apply(.proxyJump(try SSHJumpSpec.parse(value)), origin: origin) } catch {
                throw problem("-J \(value): \(error.message)")
            }
        case "F":
            configFile = value
        case "i":
            // ssh skips (with a warning) an -i file it cannot find.
            let path = (try? SSHTokens.expandTilde(value, home: environment.home)) ?? value
            if environment.files.exists(path) {
                options.apply(.identityFile(path), origin: origin, explicit: true)
            } else {
                warnings.append(problem("-i \(value): no such file; skipped, as ssh skips it"))
            }
        case "l":
            options.apply(.user(value), origin: origin)
        case "p":
            do { options.apply(.port(try SSHSetting.port(value, keyword: "-p")), origin: origin) } catch { throw problem(error.message) }
        default:
            break
        }
    }
}

extension SSHConfigOrigin {
    var isJumpVariable: Bool { if case .variable("jump", _) = source { return true } else { return false } }
}
