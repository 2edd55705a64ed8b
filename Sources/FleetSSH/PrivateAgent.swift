import FleetLocal
import Foundation

/// fleetup's own ssh-agent for a run, holding the encrypted keys it was given, decrypted
/// once by `ssh-add`. libssh2 would otherwise decrypt such a key on every connection
/// (bcrypt with 16 rounds: ~0.1 s of CPU each, 20 s for 200 hosts).
///
/// The passphrase reaches `ssh-add` through an askpass script that reads it from an
/// environment variable of that one process (never argv, never a file); the script
/// answers once, so a wrong passphrase ends `ssh-add` instead of looping.
final class PrivateAgent: @unchecked Sendable {
    // @unchecked: immutable after init; `stop` is idempotent and only called at shutdown.
    let socket: String
    private let directory: String
    private let pid: pid_t

    init() throws {
        guard let agent = LocalProcess.find("ssh-agent") else {
            throw LocalProcess.Failure(description: "ssh-agent not found (Debian: openssh-client); it holds decrypted keys for the run")
        }
        var template = Array((NSTemporaryDirectory() + "fleetup-agent-XXXXXX").utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw LocalProcess.Failure(description: "cannot create a private folder for the agent: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: dir)
        socket = directory + "/agent.sock"
        // Without -D the agent binds its socket, then daemonizes: once this returns, it listens.
        let out = try LocalProcess.run(agent, ["-s", "-a", socket])
        guard let range = out.range(of: "SSH_AGENT_PID="),
            let p = pid_t(out[range.upperBound...].prefix { $0.isNumber })
        else {
            throw LocalProcess.Failure(description: "ssh-agent did not say its pid: \(out)")
        }
        pid = p
        let askpass = directory + "/askpass"
        let script = """
            #!/bin/sh
            # answers ssh-add once, from its environment; a second question means a wrong passphrase
            [ -e "$0.used" ] && exit 1
            : > "$0.used"
            printf '%s\\n' "$FLEETUP_ASKPASS_SECRET"

            """
        try LocalProcess.writeFile(askpass, Array(script.utf8), mode: 0o700)
    }

    /// Decrypts `keyFile` into the agent. Throws with ssh-add's words when it fails.
    func add(_ keyFile: String, passphrase: String) throws {
        guard let sshAdd = LocalProcess.find("ssh-add") else {
            throw LocalProcess.Failure(description: "ssh-add not found (Debian: openssh-client)")
        }
        let askpass = directory + "/askpass"
        unlink(askpass + ".used")
        var env = ProcessInfo.processInfo.environment
        env["SSH_AUTH_SOCK"] = socket
        env["SSH_ASKPASS"] = askpass
        env["SSH_ASKPASS_REQUIRE"] = "force"
        env["DISPLAY"] = env["DISPLAY"] ?? "fleetup"
        env["FLEETUP_ASKPASS_SECRET"] = passphrase
        do {
            try LocalProcess.run(sshAdd, ["-q", keyFile], environment: env)
        } catch {
            // ssh-add's own words, which say whether the passphrase or something else failed.
            throw LocalProcess.Failure(description: "could not decrypt \(keyFile) (wrong passphrase?): \(error)")
        }
    }

    func stop() {
        kill(pid, SIGTERM)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
