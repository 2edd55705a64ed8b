import FleetCore

/// The conversation with sudo at the start of a become command, as a pure value: the
/// command is wrapped so that sudo prompts with a unique text on stderr and, once it has
/// let the command run, the command first prints a unique marker line on stdout. Output
/// goes through here until then; prompts and the marker never reach the captured output.
struct BecomeDialog {
    enum Event: Equatable {
        /// sudo asks for the password: send it (first prompt, a password is known).
        case sendPassword
        /// sudo asks, and fleetup has no password to give.
        case needsPassword
        /// sudo asks again: the password was refused.
        case wrongPassword
        /// The command runs as the become user: send its stdin now.
        case succeeded
    }

    let prompt: [UInt8]
    let marker: [UInt8]
    let hasPassword: Bool
    private(set) var succeeded = false
    private(set) var prompts = 0
    private var heldOut: [UInt8] = []
    private var heldErr: [UInt8] = []

    init(nonce: String, hasPassword: Bool) {
        prompt = Array("[fleetup-become:\(nonce)] ".utf8)
        marker = Array("fleetup-become-ok:\(nonce)\n".utf8)
        self.hasPassword = hasPassword
    }

    /// The command line for the login shell: sudo reading its password from stdin (-S)
    /// with our prompt, then a POSIX shell that prints the marker and runs the script.
    func wrap(_ script: String, user: String) -> String {
        let prompt = String(decoding: self.prompt, as: UTF8.self)
        let marker = String(decoding: self.marker.dropLast(), as: UTF8.self)
        let inner = "printf '%s\\n' " + ShellQuote.quote(marker) + "; eval \"$1\""
        return "exec sudo -H -S -p " + ShellQuote.quote(prompt) + " -u " + ShellQuote.quote(user)
            + " -- /bin/sh -c " + ShellQuote.quote(inner) + " fleetup-become " + ShellQuote.quote(script)
    }

    /// The text to send for `command`: its script wrapped for sudo with a fresh nonce when
    /// it becomes another user, and the dialog that reads sudo's answers; as it is otherwise.
    static func wrapping(_ command: RemoteCommand) -> (text: String, dialog: BecomeDialog?) {
        guard let become = command.become else { return (command.script, nil) }
        let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let dialog = BecomeDialog(nonce: nonce, hasPassword: become.password != nil)
        return (dialog.wrap(command.script, user: become.user), dialog)
    }

    /// Bytes of the command's stdout: held until the marker, passed through after it.
    mutating func stdout(_ bytes: some Collection<UInt8>) -> (output: [UInt8], events: [Event]) {
        guard !succeeded else { return (Array(bytes), []) }
        heldOut.append(contentsOf: bytes)
        guard let r = heldOut.firstRange(of: marker) else { return ([], []) }
        succeeded = true
        let before = Array(heldOut[..<r.lowerBound]), after = Array(heldOut[r.upperBound...])
        heldOut = []
        return (before + after, [.succeeded])
    }

    /// Bytes of stderr: prompts are taken out (and answered); the rest is held until the
    /// marker, so a prompt split across reads is still recognised.
    mutating func stderr(_ bytes: some Collection<UInt8>) -> (output: [UInt8], events: [Event]) {
        guard !succeeded else { return (Array(bytes), []) }
        heldErr.append(contentsOf: bytes)
        var events: [Event] = []
        while let r = heldErr.firstRange(of: prompt) {
            heldErr.removeSubrange(r)
            prompts += 1
            events.append(prompts > 1 ? .wrongPassword : hasPassword ? .sendPassword : .needsPassword)
        }
        return ([], events)
    }

    /// Called once the marker appeared: the stderr held until then.
    mutating func releaseStderr() -> [UInt8] {
        defer { heldErr = [] }
        return heldErr
    }

    /// Everything still held when the command ends (sudo's own messages, if it never let
    /// the command run).
    mutating func finish() -> (stdout: [UInt8], stderr: [UInt8]) {
        defer { heldOut = []; heldErr = [] }
        return (heldOut, heldErr)
    }
}
