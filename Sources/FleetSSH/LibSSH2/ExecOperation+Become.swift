import FleetCore

/// Output routing for become commands: until sudo has let the command run, stdout and
/// stderr go through the `BecomeDialog`, whose events drive the password and the EOF.
extension ExecOperation {
    func receiveStdout(_ bytes: some Collection<UInt8>) { receive(bytes, stderr: false) }
    func receiveStderr(_ bytes: some Collection<UInt8>) { receive(bytes, stderr: true) }

    private func receive(_ bytes: some Collection<UInt8>, stderr isStderr: Bool) {
        guard var d = dialog, !d.succeeded else {
            return isStderr ? stderr.append(bytes) : stdout.append(bytes)
        }
        let (output, events) = isStderr ? d.stderr(bytes) : d.stdout(bytes)
        dialog = d
        if isStderr { stderr.append(output) } else { stdout.append(output) }
        handle(events)
    }

    private func handle(_ events: [BecomeDialog.Event]) {
        let user = command.become?.user ?? "root"
        for event in events {
            switch event {
            case .sendPassword:
                passwordDue = true
            case .needsPassword:
                becomeProblem =
                    "sudo asks for a password to run commands as \(user): give it with --ask-become-pass, "
                    + "FLEETUP_BECOME_PASSWORD or ansible_become_password"
                eofDue = true
            case .wrongPassword:
                becomeProblem = "sudo refused the become password (to run commands as \(user))"
                eofDue = true
            case .succeeded:
                if var d = dialog {
                    stderr.append(d.releaseStderr())
                    dialog = d
                }
            }
        }
    }

    /// What sudo said, kept as the command's output when it never let the command run.
    func flushBecome() {
        guard var d = dialog, !d.succeeded else { return }
        let held = d.finish()
        dialog = d
        stdout.append(held.stdout)
        stderr.append(held.stderr)
    }

    /// The error when sudo never ran the command; nil for a command that ran.
    func becomeFailure() -> RemoteError? {
        guard let d = dialog, !d.succeeded else { return nil }
        let user = command.become?.user ?? "root"
        let said = stderr.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.suffix(3).joined(separator: "; ")
        let why = becomeProblem ?? "sudo did not run `\(command.display)` as \(user)"
        return RemoteError(.becomeFailed, host: host, said.isEmpty ? why : "\(why): \(said)")
    }
}
