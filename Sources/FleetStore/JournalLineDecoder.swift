import FleetCore

/// Journal lines decoded by hand, for the events a large run's journal is nearly all made of:
/// a host's start, version reads, hops, steps, health checks and end (all but 13 of the
/// 130,013 lines of a 5,000-host run). Foundation's JSONDecoder spent ~85 % of `fleetup
/// report`'s time on them.
///
/// Strict on purpose: a line it cannot read exactly as JSONDecoder would — another event, a
/// key it does not know or meets twice, a null where a value must be, a number that is not a
/// plain integer in range, an escape or a byte that is not valid JSON — gives nil, and the
/// reader decodes that line with JSONDecoder. So the entries are the same either way, and every
/// error is still JSONDecoder's (`JournalLineDecoderTests` compares both on every kind of line
/// and on lines broken at random).
enum JournalLineDecoder {
    static func entry(_ line: UnsafeRawBufferPointer) -> JournalEntry? {
        var parser = JSONLineParser(line)
        guard let value = parser.document(), let f = Fields(value, ["event", "seq", "time"]), let seq = f.int("seq"),
            let time = f.string("time").flatMap(WallTime.init(iso:)), let event = f["event"].flatMap(event)
        else { return nil }
        return JournalEntry(seq: seq, time: time, event: event)
    }

    /// `{"stepFinished":{…}}`: one key, the event's name, and its values.
    static func event(_ value: JSONLineValue) -> RunEvent? {
        guard case .object(let pairs) = value, pairs.count == 1, let f = Fields(pairs[0].value, keys[pairs[0].key] ?? [])
        else { return nil }
        switch pairs[0].key {
        case "hostStarted":
            guard let host = f.string("host"), let recheck = f.bool("recheck"), let resumeAt = f.optionalString("resumeAt")
            else { return nil }
            return .hostStarted(host: host, recheck: recheck, resumeAt: resumeAt)
        case "versionRead":
            guard let host = f.string("host"), let version = f.optionalString("version"), let problem = f.optionalString("problem")
            else { return nil }
            return .versionRead(host: host, version: version, problem: problem)
        case "hopStarted":
            guard let host = f.string("host"), let from = f.string("from"), let to = f.string("to") else { return nil }
            return .hopStarted(host: host, from: from, to: to)
        case "stepStarted":
            guard let host = f.string("host"), let step = f["step"].flatMap(stepRef) else { return nil }
            return .stepStarted(host: host, step: step)
        case "stepFinished":
            guard let host = f.string("host"), let record = f["record"].flatMap(stepRecord) else { return nil }
            return .stepFinished(host: host, record: record)
        case "healthChecked":
            guard let host = f.string("host"), let record = f["record"].flatMap(healthRecord) else { return nil }
            return .healthChecked(host: host, record: record)
        case "hostFinished":
            guard let host = f.string("host"), let result = f["result"].flatMap(hostResult) else { return nil }
            return .hostFinished(host: host, result: result)
        default:
            return nil
        }
    }

    /// The keys of each event read here (the labels of its values).
    static let keys: [String: [String]] = [
        "hostStarted": ["host", "recheck", "resumeAt"], "versionRead": ["host", "version", "problem"],
        "hopStarted": ["host", "from", "to"], "stepStarted": ["host", "step"], "stepFinished": ["host", "record"],
        "healthChecked": ["host", "record"], "hostFinished": ["host", "result"],
    ]

    static func stepRef(_ value: JSONLineValue) -> StepRef? {
        guard let f = Fields(value, ["phase", "from", "to", "index", "name", "command", "release", "attempt"]),
            let phase = f.string("phase").flatMap(StepPhase.init(rawValue:)), let from = f.string("from"), let to = f.string("to"),
            let index = f.int("index"), let name = f.string("name"), let command = f.string("command"),
            let release = f.optionalString("release"), let attempt = f.int("attempt")
        else { return nil }
        return StepRef(phase: phase, from: from, to: to, index: index, name: name, command: command, release: release, attempt: attempt)
    }

    static func stepRecord(_ value: JSONLineValue) -> StepRecord? {
        guard let f = Fields(value, ["step", "exitStatus", "signal", "timedOut", "error", "durationMs", "stdout", "stderr"]),
            let step = f["step"].flatMap(stepRef), let exit = f.optionalInt("exitStatus"), let signal = f.optionalString("signal"),
            let timedOut = f.bool("timedOut"), let error = f.optionalString("error"), let durationMs = f.int("durationMs"),
            let stdout = f.string("stdout"), let stderr = f.string("stderr")
        else { return nil }
        var exitStatus: Int32?
        if let exit {
            guard let e = Int32(exactly: exit) else { return nil }
            exitStatus = e
        }
        return StepRecord(
            step: step, exitStatus: exitStatus, signal: signal, timedOut: timedOut, error: error, durationMs: durationMs,
            stdout: stdout, stderr: stderr)
    }

    static func healthRecord(_ value: JSONLineValue) -> HealthRecord? {
        guard let f = Fields(value, ["context", "healthy", "probes", "durationMs"]), let context = f.string("context"),
            let healthy = f.bool("healthy"), let probes = f.array("probes", probeRecord), let durationMs = f.int("durationMs")
        else { return nil }
        return HealthRecord(context: context, healthy: healthy, probes: probes, durationMs: durationMs)
    }

    static func probeRecord(_ value: JSONLineValue) -> ProbeRecord? {
        guard let f = Fields(value, ["target", "expectation", "healthy", "verdict", "attempts", "logs"]),
            let target = f.string("target"), let expectation = f.string("expectation"), let healthy = f.bool("healthy"),
            let verdict = f.string("verdict"), let attempts = f.array("attempts", probeAttempt), let logs = f.optionalString("logs")
        else { return nil }
        return ProbeRecord(target: target, expectation: expectation, healthy: healthy, verdict: verdict, attempts: attempts, logs: logs)
    }

    static func probeAttempt(_ value: JSONLineValue) -> ProbeAttempt? {
        guard let f = Fields(value, ["atMs", "durationMs", "passed", "detail"]), let atMs = f.int("atMs"),
            let durationMs = f.int("durationMs"), let passed = f.bool("passed"), let detail = f.string("detail")
        else { return nil }
        return ProbeAttempt(atMs: atMs, durationMs: durationMs, passed: passed, detail: detail)
    }

    static func hostResult(_ value: JSONLineValue) -> HostResult? {
        guard let f = Fields(value, ["outcome", "versionBefore", "versionAfter", "path", "message", "restore"]),
            let outcome = f.string("outcome").flatMap(HostOutcome.init(rawValue:)),
            let versionBefore = f.optionalString("versionBefore"), let versionAfter = f.optionalString("versionAfter"),
            let path = f.array("path", { if case .string(let s) = $0 { s } else { nil } }), let message = f.optionalString("message"),
            let restore = f.optionalString("restore")
        else { return nil }
        return HostResult(
            outcome: outcome, versionBefore: versionBefore, versionAfter: versionAfter, path: path, message: message, restore: restore)
    }
}

/// An object's keys and values, when every key is one of those expected, each once (what a
/// synthesized decoder would read alike; anything else is left to JSONDecoder).
struct Fields {
    let pairs: [(key: String, value: JSONLineValue)]

    init?(_ value: JSONLineValue, _ expected: [String]) {
        guard case .object(let pairs) = value else { return nil }
        for (i, p) in pairs.enumerated() {
            guard expected.contains(p.key), !pairs[..<i].contains(where: { $0.key == p.key }) else { return nil }
        }
        self.pairs = pairs
    }

    subscript(_ key: String) -> JSONLineValue? { pairs.first { $0.key == key }?.value }

    func string(_ key: String) -> String? { if case .string(let s)? = self[key] { s } else { nil } }
    func int(_ key: String) -> Int? { if case .int(let v)? = self[key] { v } else { nil } }
    func bool(_ key: String) -> Bool? { if case .bool(let v)? = self[key] { v } else { nil } }

    /// An optional value: `.some(nil)` when missing or null, nil when of another type.
    func optionalString(_ key: String) -> String?? {
        switch self[key] {
        case nil, .null?: return .some(nil)
        case .string(let s)?: return s
        default: return nil
        }
    }

    func optionalInt(_ key: String) -> Int?? {
        switch self[key] {
        case nil, .null?: return .some(nil)
        case .int(let v)?: return v
        default: return nil
        }
    }

    /// An array whose every element `element` reads.
    func array<T>(_ key: String, _ element: (JSONLineValue) -> T?) -> [T]? {
        guard case .array(let values)? = self[key] else { return nil }
        var out: [T] = []
        out.reserveCapacity(values.count)
        for v in values {
            guard let e = element(v) else { return nil }
            out.append(e)
        }
        return out
    }
}

/// A JSON value as the journal's lines hold them: numbers only as integers.
indirect enum JSONLineValue {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONLineValue])
    case object([(key: String, value: JSONLineValue)])
}

/// A strict JSON parser for one line: nil for anything it does not take (invalid JSON, and
/// valid JSON it leaves to JSONDecoder: numbers with a fraction or an exponent, or too large
/// for an Int, `-0`, strings that are not valid UTF-8, lone surrogates, nesting deeper than 32).
struct JSONLineParser {
    let bytes: UnsafeRawBufferPointer
    var i = 0
    var depth = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The one value of the line, with nothing but white space around it.
    mutating func document() -> JSONLineValue? {
        guard let v = value() else { return nil }
        skipSpace()
        return i == bytes.count ? v : nil
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value() -> JSONLineValue? {
        skipSpace()
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "\""): return string().map(JSONLineValue.string)
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "t"): return word("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return word("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return word("null") ? .null : nil
        default: return int().map(JSONLineValue.int)
        }
    }

    mutating func word(_ w: StaticString) -> Bool {
        guard i + w.utf8CodeUnitCount <= bytes.count else { return false }
        for k in 0..<w.utf8CodeUnitCount where bytes[i + k] != w.utf8Start[k] { return false }
        i += w.utf8CodeUnitCount
        return true
    }

    mutating func object() -> JSONLineValue? {
        var pairs: [(key: String, value: JSONLineValue)] = []
        let read = elements(until: UInt8(ascii: "}")) { p in
            p.skipSpace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "\""), let key = p.string() else { return false }
            p.skipSpace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: ":") else { return false }
            p.i += 1
            guard let v = p.value() else { return false }
            pairs.append((key, v))
            return true
        }
        return read ? .object(pairs) : nil
    }

    mutating func array() -> JSONLineValue? {
        var values: [JSONLineValue] = []
        let read = elements(until: UInt8(ascii: "]")) { p in
            guard let v = p.value() else { return false }
            values.append(v)
            return true
        }
        return read ? .array(values) : nil
    }

    /// The members of the object or array opening at `i`, each read by `element`, separated
    /// by commas, up to `close`.
    mutating func elements(until close: UInt8, _ element: (inout JSONLineParser) -> Bool) -> Bool {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 32 else { return false }
        i += 1
        skipSpace()
        if i < bytes.count, bytes[i] == close {
            i += 1
            return true
        }
        while true {
            guard element(&self) else { return false }
            skipSpace()
            guard i < bytes.count else { return false }
            i += 1
            if bytes[i - 1] == close { return true }
            guard bytes[i - 1] == UInt8(ascii: ",") else { return false }
        }
    }

    /// `-?(0|[1-9][0-9]*)`, not followed by a fraction or an exponent, within Int.
    mutating func int() -> Int? {
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        let start = i
        var v = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int(bytes[i] - 0x30)) : m.addingReportingOverflow(Int(bytes[i] - 0x30))
            guard !o1, !o2 else { return nil }
            v = s
            i += 1
        }
        guard i > start, bytes[start] != 0x30 || i == start + 1, !(negative && v == 0) else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            return nil
        }
        return v
    }

    /// A string at `i` (its opening quote): its escapes decoded, valid UTF-8 only.
    mutating func string() -> String? {
        i += 1
        let start = i
        // Most strings have no escape: their bytes are the text, and ASCII needs no validation.
        var ascii = true
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 {
            ascii = ascii && bytes[i] < 0x80
            i += 1
        }
        guard i < bytes.count, bytes[i] >= 0x20 else { return nil }
        if bytes[i] == UInt8(ascii: "\"") {
            i += 1
            let text = UnsafeRawBufferPointer(rebasing: bytes[start..<(i - 1)])
            return ascii ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self)
        }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            switch b {
            case UInt8(ascii: "\""): return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard i < bytes.count else { return nil }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var unit = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(unit) {
                        guard word("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(unit) else { return nil }
                    out.append(contentsOf: UTF8.encode(scalar)!)
                default: return nil
                }
            default:
                guard b >= 0x20 else { return nil }
                out.append(b)
            }
        }
        return nil
    }

    /// Four hex digits.
    mutating func hex4() -> UInt32? {
        guard i + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }
}
