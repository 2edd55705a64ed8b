import FleetCore

/// A journal event's JSON, written by hand: byte for byte what Foundation's `JSONEncoder`
/// makes of it with the journal's options (`JournalFormat.encoder()`), which encoding each
/// event through `JSONEncoder` cost a quarter of a 5,000-host run's CPU.
///
/// The shape is the synthesized `Codable` one: an event is `{"case":{"label":value,…}}` (an
/// unlabelled value is `_0`, a case without values `{}`), a struct an object of its stored
/// properties, an absent optional leaves its key out. Keys are sorted by their UTF-8 bytes
/// (`B` < `_` < `a`), so each writer below lists them in that order. Strings escape `"`,
/// `\`, and the control characters below 0x20 (`\b \t \n \f \r`, the rest `\u00XX` in
/// lower case); everything else, `/` and non-ASCII included, is written as it is.
///
/// The run's header (`runStarted`: one line a run, holding the rolling policy whose coding is
/// its own) is left to `JSONEncoder`: `encode` returns nil for it. `EventJSONTests` holds
/// the two equal for every other kind of event, optionals absent and present, and every
/// class of character in strings.
struct EventJSON {
    private(set) var bytes: [UInt8] = []
    /// Whether the next key or array element needs a comma before it.
    private var comma = false

    /// The event's JSON; nil for the header, which `JSONEncoder` writes.
    static func encode(_ event: RunEvent) -> [UInt8]? {
        var w = EventJSON()
        w.bytes.reserveCapacity(256)
        guard w.event(event) else { return nil }
        return w.bytes
    }

    // MARK: events

    private mutating func event(_ event: RunEvent) -> Bool {
        open()
        switch event {
        case .runStarted:
            return false
        case .resumed(let user, let machine, let retryFailed):
            kind("resumed")
            key("machine", machine)
            key("retryFailed", retryFailed)
            key("user", user)
        case .stageStarted(let stage):
            kind("stageStarted")
            key("stage", stage)
        case .batchStarted(let stage, let batch, let hosts):
            kind("batchStarted")
            key("batch", batch)
            key("hosts", hosts)
            key("stage", stage)
        case .hostStarted(let host, let recheck, let resumeAt):
            kind("hostStarted")
            key("host", host)
            key("recheck", recheck)
            key("resumeAt", resumeAt)
        case .versionRead(let host, let version, let problem):
            kind("versionRead")
            key("host", host)
            key("problem", problem)
            key("version", version)
        case .hopStarted(let host, let from, let to):
            kind("hopStarted")
            key("from", from)
            key("host", host)
            key("to", to)
        case .stepStarted(let host, let step):
            kind("stepStarted")
            key("host", host)
            key("step")
            self.step(step)
        case .stepFinished(let host, let record):
            kind("stepFinished")
            key("host", host)
            key("record")
            self.step(record)
        case .healthChecked(let host, let record):
            kind("healthChecked")
            key("host", host)
            key("record")
            health(record)
        case .hostFinished(let host, let result):
            kind("hostFinished")
            key("host", host)
            key("result")
            self.result(result)
        case .hostsSkipped(let hosts, let reason):
            kind("hostsSkipped")
            key("hosts", hosts)
            key("reason", reason)
        case .gate(let stage, let next, let decision, let detail):
            kind("gate")
            key("decision", decision.rawValue)
            key("detail", detail)
            key("next", next)
            key("stage", stage)
        case .gateWaiting(let stage, let next):
            kind("gateWaiting")
            key("next", next)
            key("stage", stage)
        case .halted(let reason):
            kind("halted")
            key("reason", reason)
        case .draining:
            kind("draining")
        case .aborting:
            kind("aborting")
        case .runFinished(let outcome):
            kind("runFinished")
            key("outcome", outcome.rawValue)
        case .hookRan(let record):
            kind("hookRan")
            key("record")
            hook(record)
        case .notified(let record):
            kind("notified")
            key("record")
            notification(record)
        case .note(let host, let text):
            kind("note")
            key("host", host)
            key("text", text)
        }
        close()
        close()
        return true
    }

    /// `"case":{`, the case's object left open.
    private mutating func kind(_ name: StaticString) {
        key(name)
        open()
    }

    private mutating func step(_ s: StepRef) {
        open()
        key("attempt", s.attempt)
        key("command", s.command)
        key("from", s.from)
        key("index", s.index)
        key("name", s.name)
        key("phase", s.phase.rawValue)
        key("release", s.release)
        key("to", s.to)
        close()
    }

    private mutating func step(_ r: StepRecord) {
        open()
        key("durationMs", r.durationMs)
        key("error", r.error)
        key("exitStatus", r.exitStatus.map(Int.init))
        key("signal", r.signal)
        key("stderr", r.stderr)
        key("stdout", r.stdout)
        key("step")
        step(r.step)
        key("timedOut", r.timedOut)
        close()
    }

    private mutating func health(_ r: HealthRecord) {
        open()
        key("context", r.context)
        key("durationMs", r.durationMs)
        key("healthy", r.healthy)
        key("probes")
        openArray()
        for p in r.probes {
            element()
            open()
            key("attempts")
            openArray()
            for a in p.attempts {
                element()
                open()
                key("atMs", a.atMs)
                key("detail", a.detail)
                key("durationMs", a.durationMs)
                key("passed", a.passed)
                close()
            }
            closeArray()
            key("expectation", p.expectation)
            key("healthy", p.healthy)
            key("logs", p.logs)
            key("target", p.target)
            key("verdict", p.verdict)
            close()
        }
        closeArray()
        close()
    }

    private mutating func result(_ r: HostResult) {
        open()
        key("message", r.message)
        key("outcome", r.outcome.rawValue)
        key("path", r.path)
        key("restore", r.restore)
        key("versionAfter", r.versionAfter)
        key("versionBefore", r.versionBefore)
        close()
    }

    private mutating func hook(_ r: HookRecord) {
        open()
        key("batch", r.batch)
        key("durationMs", r.durationMs)
        key("error", r.error)
        key("name", r.name)
        key("output", r.output)
        key("point", r.point.rawValue)
        key("signal", r.signal.map(Int.init))
        key("stage", r.stage)
        key("status", r.status.map(Int.init))
        key("timedOut", r.timedOut)
        close()
    }

    private mutating func notification(_ r: NotifyRecord) {
        open()
        key("attempts", r.attempts)
        key("delivered", r.delivered)
        key("durationMs", r.durationMs)
        key("error", r.error)
        key("event", r.event.rawValue)
        key("format", r.format)
        key("name", r.name)
        key("status", r.status)
        close()
    }

    // MARK: keys and values

    private mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        comma = false
    }

    private mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        comma = true
    }

    private mutating func openArray() {
        bytes.append(UInt8(ascii: "["))
        comma = false
    }

    private mutating func closeArray() {
        bytes.append(UInt8(ascii: "]"))
        comma = true
    }

    /// Before an array's element: its comma.
    private mutating func element() {
        if comma { bytes.append(UInt8(ascii: ",")) }
        comma = true
    }

    /// `"name":` (a comma first unless it is the object's first key); the value follows.
    private mutating func key(_ name: StaticString) {
        if comma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        comma = true
    }

    private mutating func key(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    /// An absent optional leaves its key out, as the synthesized `encodeIfPresent` does.
    private mutating func key(_ name: StaticString, _ value: String?) {
        if let value { key(name, value) }
    }

    private mutating func key(_ name: StaticString, _ value: Int) {
        key(name)
        int(value)
    }

    private mutating func key(_ name: StaticString, _ value: Int?) {
        if let value { key(name, value) }
    }

    private mutating func key(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: value ? Self.trueText : Self.falseText)
    }

    private mutating func key(_ name: StaticString, _ values: [String]) {
        key(name)
        openArray()
        for v in values {
            element()
            string(v)
        }
        closeArray()
    }

    private static let trueText = Array("true".utf8)
    private static let falseText = Array("false".utf8)

    /// Digits as `String(n)` writes them (a small string: no allocation).
    private mutating func int(_ n: Int) {
        bytes.append(contentsOf: String(n).utf8)
    }

    /// A JSON string, escaped as `JSONEncoder` escapes it.
    private mutating func string(_ s: String) {
        JSONQuote.append(s, to: &bytes, backspaceAndFormFeed: true)
    }
}
