import ArgumentParser
import FleetConfig
import FleetCore
import Foundation

/// `-b/--become`, `--become-user`, `-K/--ask-become-pass`, with Ansible's per-host
/// `ansible_become*` variables: which hosts run commands through sudo, as whom, and with
/// which password.
struct BecomeOptions: ParsableArguments {
    @Flag(name: [.customShort("b"), .customLong("become")], help: "Run the command through sudo (as --become-user, root by default).")
    var become = false

    @Option(name: .customLong("become-user"), help: ArgumentHelp("The user sudo runs the command as.", valueName: "USER"))
    var becomeUser: String?

    @Flag(
        name: [.customShort("K"), .customLong("ask-become-pass")],
        help: "Ask for the sudo password on the terminal (or set FLEETUP_BECOME_PASSWORD).")
    var askBecomePass = false

    /// Each host's become settings (nil: runs as the login user). The password comes from
    /// -K, then the host's `ansible_become_password`, then FLEETUP_BECOME_PASSWORD; it only
    /// ever travels on the command's stdin when sudo asks.
    func settings(for hosts: [FleetCore.Host]) throws -> [String: Become?] {
        let asked = try askBecomePass ? Self.askPassword() : nil
        // Set but empty is unset (a CI secret that is not defined arrives as ""): sudo is
        // never sent an empty password in its place.
        let fromEnvironment = ProcessInfo.processInfo.environment["FLEETUP_BECOME_PASSWORD"].flatMap { $0.isEmpty ? nil : Secret($0) }
        var out: [String: Become?] = [:]
        var unsupported: [ConfigError] = []
        // ansible.cfg's become and become_user: defaults below the flags and the host's variables.
        let config = try AnsibleConfigDefaults.config()
        let configBecome = config.bool(.become) ?? false
        let configUser = config[.becomeUser]?.value
        for host in hosts {
            let vars = host.connectionVars
            guard become || vars.become || (configBecome && host.vars["ansible_become"] == nil) else {
                out[host.name] = .some(nil)
                continue
            }
            if vars.becomeMethod != "sudo" {
                unsupported.append(
                    ConfigError(file: host.name, "become method \"\(vars.becomeMethod)\" is not supported (fleetup uses sudo)"))
            }
            let own = ["ansible_become_password", "ansible_become_pass", "ansible_sudo_pass"].lazy
                .compactMap { host.vars[$0] }.first.map { value -> Secret in
                    if case .secret(let s) = value { return s }
                    return Secret(value.scalarText ?? "")
                }
            let named = ["ansible_become_user", "ansible_sudo_user"].contains { host.vars[$0] != nil }
            out[host.name] = Become(
                user: becomeUser ?? (named ? vars.becomeUser : configUser ?? vars.becomeUser), password: asked ?? own ?? fromEnvironment)
        }
        guard unsupported.isEmpty else { throw ConfigErrors(unsupported) }
        return out
    }

    /// Reads the password from the terminal without echo.
    private static func askPassword() throws -> Secret {
        guard isatty(STDIN_FILENO) != 0 || FileManager.default.isReadableFile(atPath: "/dev/tty"),
            let raw = getpass("BECOME password: ")
        else {
            throw ValidationError("--ask-become-pass needs a terminal; set FLEETUP_BECOME_PASSWORD instead")
        }
        return Secret(String(cString: raw))
    }
}
