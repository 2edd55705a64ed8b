import FleetCore
import Foundation

/// StrictHostKeyChecking as written. `ask` cannot prompt in a fleet run: fleetup treats it
/// as `yes` (unknown keys refused).
enum StrictHostKeyChecking: String, Sendable, Hashable {
    case yes, no, ask
    case acceptNew = "accept-new"

    /// What the executor does with it.
    var policy: HostKeyPolicy {
        switch self {
        case .yes, .ask: return .strict
        case .acceptNew: return .acceptNew
        case .no: return .insecureAcceptAny
        }
    }
}

/// One ssh_config line fleetup acts on, its value parsed and checked when the file is read
/// (OpenSSH checks values even in blocks that do not apply, so a bad line is an error
/// whatever host is resolved).
enum SSHSetting: Sendable, Hashable {
    case hostName(String)
    case port(Int)
    case user(String)
    case identityFile(String)
    case identitiesOnly(Bool)
    case identityAgent(String)
    case proxyJump(SSHJumpSpec)
    case proxyCommand(String)
    case userKnownHostsFiles([String])
    case globalKnownHostsFiles([String])
    case strictHostKeyChecking(StrictHostKeyChecking)
    /// Seconds.
    case connectTimeout(Int)
    case serverAliveInterval(Int)
    case serverAliveCountMax(Int)
    case hostKeyAlias(String)
    /// Any value but `no`: OpenSSH then reads the files a second time (fleetup does not do
    /// the DNS search itself).
    case canonicalizeHostname(Bool)
    case ignoreUnknown(String)
}

/// What a keyword line is to fleetup.
enum SSHKeywordLine: Sendable, Hashable {
    case setting(SSHSetting)
    /// An OpenSSH keyword fleetup has no use for (Ciphers, ForwardAgent, SendEnv...).
    case ignored
    /// No OpenSSH keyword: ssh would refuse the file unless IgnoreUnknown names it.
    case unknown(String)
}

extension SSHSetting {
    typealias Problem = SSHConfigLine.Problem

    /// Parses an option line (not Host, Match or Include).
    static func parse(_ line: SSHConfigLine, environment: [String: String]) throws(Problem) -> SSHKeywordLine {
        let k = line.keyword
        let args = line.arguments
        /// Exactly one non-empty argument, as OpenSSH's single-value keywords take.
        func one() throws(Problem) -> String {
            guard let a = args.first, !a.isEmpty else { throw Problem(message: "\(k): missing argument") }
            guard args.count == 1 else { throw Problem(message: "\(k): expected one value, got \(args.count) (quote a value with spaces)") }
            return a
        }
        func some() throws(Problem) -> [String] {
            guard !args.isEmpty, !args.contains("") else { throw Problem(message: "\(k): missing argument") }
            return args
        }
        switch k {
        case "hostname": return .setting(.hostName(try one()))
        case "port": return .setting(.port(try port(try one(), keyword: k)))
        case "user": return .setting(.user(try one()))
        case "identityfile", "identityfile2": return .setting(.identityFile(try one()))
        case "identitiesonly": return .setting(.identitiesOnly(try flag(try one(), keyword: k)))
        case "identityagent": return .setting(.identityAgent(try agent(try one(), keyword: k, environment: environment)))
        case "proxyjump":
            // OpenSSH takes the rest of the line up to a comment, and its first word.
            let text = line.rest.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            guard !text.isEmpty else { throw Problem(message: "\(k): missing argument") }
            do { return .setting(.proxyJump(try SSHJumpSpec.parse(text))) } catch {
                throw Problem(message: "invalid ProxyJump \"\(text)\": \(error.message)")
            }
        case "proxycommand":
            return .setting(.proxyCommand(String(line.rest.drop { $0 == " " || $0 == "\t" || $0 == "=" })))
        case "userknownhostsfile": return .setting(.userKnownHostsFiles(try some()))
        case "globalknownhostsfile": return .setting(.globalKnownHostsFiles(try some()))
        case "stricthostkeychecking":
            switch try one().lowercased() {
            case "yes", "true": return .setting(.strictHostKeyChecking(.yes))
            case "no", "false", "off": return .setting(.strictHostKeyChecking(.no))
            case "ask": return .setting(.strictHostKeyChecking(.ask))
            case "accept-new": return .setting(.strictHostKeyChecking(.acceptNew))
            case let v: throw Problem(message: "\(k): expected yes, accept-new, no, off or ask, got \"\(v)\"")
            }
        case "connecttimeout": return .setting(.connectTimeout(try seconds(try one(), keyword: k)))
        case "serveraliveinterval": return .setting(.serverAliveInterval(try seconds(try one(), keyword: k)))
        case "serveralivecountmax":
            let v = try one()
            guard let n = Int(v), n >= 0, n <= Int(Int32.max) else {
                throw Problem(message: "\(k): expected a whole number, got \"\(v)\"")
            }
            return .setting(.serverAliveCountMax(n))
        case "hostkeyalias": return .setting(.hostKeyAlias(try one()))
        case "canonicalizehostname":
            switch try one().lowercased() {
            case "no", "false": return .setting(.canonicalizeHostname(false))
            case "yes", "true", "always": return .setting(.canonicalizeHostname(true))
            case let v: throw Problem(message: "\(k): expected yes, no or always, got \"\(v)\"")
            }
        case "ignoreunknown": return .setting(.ignoreUnknown(try one()))
        default:
            return SSHKeywords.known.contains(k) ? .ignored : .unknown(k)
        }
    }

    /// yes/true or no/false, in any case.
    static func flag(_ v: String, keyword: String) throws(Problem) -> Bool {
        switch v.lowercased() {
        case "yes", "true": return true
        case "no", "false": return false
        default: throw Problem(message: "\(keyword): expected yes or no, got \"\(v)\"")
        }
    }

    /// OpenSSH's `a2port`: a decimal 1-65535, or a TCP service name from /etc/services.
    static func port(_ v: String, keyword: String) throws(Problem) -> Int {
        if !v.isEmpty, v.allSatisfy(\.isASCIIDigit) {
            if let n = Int(v), n >= 1, n <= 65535 { return n }
        } else if let entry = getservbyname(v, "tcp") {
            return Int(UInt16(bigEndian: UInt16(truncatingIfNeeded: entry.pointee.s_port)))
        }
        throw Problem(message: "\(keyword): expected a port (1-65535) or a service name, got \"\(v)\"")
    }

    /// OpenSSH's `convtime`: `30`, `90s`, `1m30s`, `2h`, `1d`, `1w` in seconds.
    static func seconds(_ v: String, keyword: String) throws(Problem) -> Int {
        let bad = Problem(message: "\(keyword): expected a time such as 30, 90s, 1m30s or 2h, got \"\(v)\"")
        var total = 0
        var rest = Substring(v.drop { $0 == " " || $0 == "\t" })
        guard !rest.isEmpty else { throw bad }
        while !rest.isEmpty {
            let digits = rest.prefix(while: \.isASCIIDigit)
            guard !digits.isEmpty, let n = Int(digits) else { throw bad }
            rest = rest.dropFirst(digits.count)
            var unit = 1
            if let u = rest.first {
                switch u {
                case "s", "S": unit = 1
                case "m", "M": unit = 60
                case "h", "H": unit = 3600
                case "d", "D": unit = 86400
                case "w", "W": unit = 604800
                default: throw bad
                }
                rest = rest.dropFirst()
            }
            let (product, o1) = n.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(product)
            guard !o1, !o2, sum <= Int(Int32.max) else { throw bad }
            total = sum
        }
        return total
    }

    /// IdentityAgent: OpenSSH checks `${VAR}` (the variable must be set) and the legacy
    /// `$VAR` form (a whole value naming a variable) when it reads the line.
    static func agent(_ v: String, keyword: String, environment: [String: String]) throws(Problem) -> String {
        do { _ = try SSHTokens.expandEnvironment(v, environment) } catch { throw Problem(message: "\(keyword): \(error.message)") }
        if v.hasPrefix("$"), !v.hasPrefix("${"), !SSHTokens.isEnvironmentName(v.dropFirst()) {
            throw Problem(message: "\(keyword): invalid environment name \"\(v)\" (write $NAME or ${NAME})")
        }
        return v
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// The keywords of OpenSSH's client (9.2, plus a few later ones and their old aliases).
/// Any of them that fleetup does not act on is ignored; anything else is an unknown keyword.
enum SSHKeywords {
    static let known: Set<String> = Set(
        """
        addkeystoagent addressfamily afstokenpassing batchmode bindaddress bindinterface canonicaldomains
        canonicalizefallbacklocal canonicalizemaxdots canonicalizepermittedcnames casignaturealgorithms
        certificatefile challengeresponseauthentication checkhostip cipher ciphers clearallforwardings
        compression compressionlevel connectionattempts controlmaster controlpath controlpersist
        dsaauthentication dynamicforward enableescapecommandline enablesshkeysign escapechar
        exitonforwardfailure fallbacktorsh fingerprinthash forkafterauthentication forwardagent forwardx11
        forwardx11timeout forwardx11trusted gatewayports globalknownhostsfile2 gssapiauthentication
        gssapiclientidentity gssapidelegatecredentials gssapikexalgorithms gssapikeyexchange
        gssapirenewalforcesrekey gssapiserveridentity gssapitrustdns hashknownhosts
        hostbasedacceptedalgorithms hostbasedauthentication hostbasedkeytypes hostkeyalgorithms ipqos
        kbdinteractiveauthentication kbdinteractivedevices kerberosauthentication kerberostgtpassing
        kexalgorithms knownhostscommand localcommand localforward loglevel logverbose macs
        nohostauthenticationforlocalhost numberofpasswordprompts passwordauthentication permitlocalcommand
        permitremoteopen pkcs11provider preferredauthentications protocol protocolkeepalives proxyusefdpass
        pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication rekeylimit remotecommand
        remoteforward requesttty requiredrsasize revokedhostkeys rhostsauthentication
        rhostsrsaauthentication securitykeyprovider sendenv sessiontype setenv setuptimeout
        skeyauthentication smartcarddevice stdinnull streamlocalbindmask streamlocalbindunlink
        syslogfacility tcpkeepalive tisauthentication tunnel tunneldevice updatehostkeys useblacklistedkeys
        useprivilegedport userknownhostsfile2 useroaming usersh verifyhostkeydns visualhostkey
        xauthlocation
        channeltimeout obscurekeystroketiming tag usekeychain
        """.split(whereSeparator: \.isWhitespace).map(String.init))
}
