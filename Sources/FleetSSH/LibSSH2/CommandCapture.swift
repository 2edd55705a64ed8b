import FleetCore

/// What a command wrote, as it arrives: the pid line its wrapper announces first (taken
/// off stdout), the sudo conversation of a become command (prompts and marker taken out;
/// its events say when to send the password or give up), then stdout and stderr kept as
/// bounded tails. Shared by a command in a channel of its own (`ExecOperation`) and one run
/// by a host's persistent shell (`ShellOperation`).
/// Why fleetup ended a command early: its timeout, or an interruption.
enum CommandStop { case timeout, cancel }

struct CommandCapture {
    let command: RemoteCommand
    let host: String
    var stdout: CapturedOutput
    var stderr: CapturedOutput
    private(set) var pidLine: RemoteScript.PidLine?
    /// The sudo conversation of a become command, until sudo has let the command run.
    private(set) var dialog: BecomeDialog?
    /// Set when sudo asked for a password and fleetup has one to give.
    var passwordDue = false
    /// Set when the command's stdin must end now (sudo asked for what fleetup cannot give).
    var eofDue = false
    private(set) var becomeProblem: String?

    init(_ command: RemoteCommand, host: String, dialog: BecomeDialog?, announcesPid: Bool) {
        self.command = command
        self.host = host
        self.dialog = dialog
        pidLine = announcesPid ? RemoteScript.PidLine() : nil
        stdout = CapturedOutput(limit: command.outputLimit)
        stderr = CapturedOutput(limit: command.outputLimit)
    }

    /// The pid of the command's process group, once announced.
    var pid: Int32? { pidLine?.pid }

    /// True once sudo let a become command run (always true for other commands).
    var becomeSucceeded: Bool { dialog?.succeeded ?? true }

    mutating func receiveStdout(_ bytes: UnsafeRawBufferPointer) {
        guard pidLine != nil else { return receive(bytes, stderr: false) }
        let own = pidLine!.consume(bytes)
        receive(own, stderr: false)
    }

    mutating func receiveStdout(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { receiveStdout($0) }
    }

    mutating func receiveStderr(_ bytes: some Collection<UInt8>) { receive(bytes, stderr: true) }

    /// Stdout has ended: a pid line held back without its newline is output after all.
    mutating func stdoutEnded() {
        guard pidLine != nil else { return }
        let held = pidLine!.flush()
        receive(held, stderr: false)
    }

    private mutating func receive(_ bytes: some Collection<UInt8>, stderr isStderr: Bool) {
        guard var d = dialog, !d.succeeded else {
            return isStderr ? stderr.append(bytes) : stdout.append(bytes)
        }
        let (output, events) = isStderr ? d.stderr(bytes) : d.stdout(bytes)
        dialog = d
        if isStderr { stderr.append(output) } else { stdout.append(output) }
        handle(events)
    }

    private mutating func handle(_ events: [BecomeDialog.Event]) {
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

    /// The command has ended: what sudo said is kept as its output when it never let the
    /// command run, and the tails are trimmed.
    mutating func finish() {
        if var d = dialog, !d.succeeded {
            let held = d.finish()
            dialog = d
            stdout.append(held.stdout)
            stderr.append(held.stderr)
        }
        stdout.finish()
        stderr.finish()
    }

    /// Trims the tails and says how the command ended: sudo's refusal or a broken read
    /// (unless fleetup stopped it), an interruption, or its result.
    mutating func outcome(
        status: Int32?, signal: String?, stop: CommandStop?, readFailure: String? = nil, started: UInt64
    ) -> Result<CommandResult, Error> {
        finish()
        if let failure = becomeFailure(), stop == nil { return .failure(failure) }
        if let readFailure, stop == nil { return .failure(RemoteError(.channelFailed, host: host, readFailure)) }
        if stop == .cancel { return .failure(RemoteError(.cancelled, host: host, "`\(command.display)` was interrupted")) }
        return .success(
            CommandResult(
                exitStatus: stop == nil ? status : nil, exitSignal: signal, timedOut: stop == .timeout,
                stdout: stdout, stderr: stderr, duration: .nanoseconds(Reactor.now() - started)))
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
