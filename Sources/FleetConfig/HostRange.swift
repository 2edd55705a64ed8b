import FleetCore
import Foundation

/// Host names as inventories write them: `name`, `name:port`, `[v6]:port`, and ranges
/// `web[01:20].x`, `[a:f]`, `[1:9:2]` (end inclusive, zero padding kept, several per name).
///
/// Follows Ansible's `parse_address` and `expand_hostname_range`, but refuses what Ansible
/// silently turns into surprises: a reversed numeric range (Ansible: no hosts at all) and a
/// `:suffix` that is not a port (Ansible: a host literally named `web1:abc`).
enum HostRange {
    /// Splits a host entry into its name (ranges still unexpanded) and its port.
    static func splitPort(_ text: String) throws(HostProblem) -> (String, Int?) {
        try refuseControlCharacters(text)
        guard text.utf8.contains(UInt8(ascii: ":")) else { return (text, nil) }
        let c = Array(text.utf8)
        // `[address]:port` (IPv6, or anything bracketed): Ansible's bracketed_hostport.
        if c.first == UInt8(ascii: "["), let close = c.lastIndex(of: UInt8(ascii: "]")), close > 1,
            close + 2 < c.count, c[close + 1] == UInt8(ascii: ":"), c[(close + 2)...].allSatisfy(isDigit)
        {
            return (String(decoding: c[1..<close], as: UTF8.self), try port(String(decoding: c[(close + 2)...], as: UTF8.self), in: text))
        }
        // Colons outside brackets: `[1:3]` ranges do not count.
        var colons: [Int] = []
        var depth = 0
        for (i, b) in c.enumerated() {
            if b == UInt8(ascii: "[") {
                depth += 1
            } else if b == UInt8(ascii: "]") {
                depth = max(0, depth - 1)
            } else if b == UInt8(ascii: ":") && depth == 0 {
                colons.append(i)
            }
        }
        if colons.count == 1, let i = colons.first {
            let suffix = c[(i + 1)...]
            // `name:port`: Ansible's hostport (one colon outside brackets, then digits).
            if !suffix.isEmpty && suffix.allSatisfy(isDigit) {
                return (String(decoding: c[..<i], as: UTF8.self), try port(String(decoding: suffix, as: UTF8.self), in: text))
            }
            if suffix.isEmpty { throw HostProblem("host \"\(text)\" ends in \":\" (expected host:port)") }
            if !isAddress(text) {
                throw HostProblem("host \"\(text)\": \"\(String(decoding: suffix, as: UTF8.self))\" is not a port (expected host:1-65535)")
            }
        }
        if text.hasSuffix(":") && !isAddress(text) {
            throw HostProblem("host \"\(text)\" ends in \":\" (expected host:port)")
        }
        return (text, nil)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Refused, where Ansible would take them (`ControlCharacters`).
    static func refuseControlCharacters(_ text: String) throws(HostProblem) {
        guard let problem = ControlCharacters.problem(in: text) else { return }
        throw HostProblem("host \(problem) (expected a host name or an address)")
    }

    private static func port(_ text: String, in entry: String) throws(HostProblem) -> Int {
        guard let p = Int(text), (1...65535).contains(p) else {
            throw HostProblem("host \"\(entry)\": port \(text) is out of range (expected 1-65535)")
        }
        return p
    }

    /// True when `text` is an IPv4/IPv6 address or a host name by Ansible's rules.
    static func isAddress(_ text: String) -> Bool {
        matches(ipv4, text) || matches(ipv6, text) || matches(hostname, text)
    }

    /// One entry may stand for this many hosts at most, as many as a whole inventory: a
    /// typo such as `[1:9999999999]` must fail at once rather than fill the memory (Ansible
    /// would try).
    static let maxHosts = ConfigLimits.hosts

    /// Expands every `[begin:end(:step)]` in `name`, left to right, like Ansible.
    static func expand(_ name: String) throws(HostProblem) -> [String] {
        guard let open = name.firstIndex(of: "[") else { return [name] }
        guard let close = name[open...].firstIndex(of: "]") else {
            throw HostProblem("invalid host range \"\(name)\": \"[\" is not closed by \"]\"")
        }
        let head = name[..<open], tail = name[name.index(after: close)...]
        let spec = String(name[name.index(after: open)..<close])
        let values = try rangeValues(spec, in: name)
        var out: [String] = []
        out.reserveCapacity(values.count)
        for v in values {
            guard out.count < maxHosts else {
                throw HostProblem("invalid host range \"\(name)\": more than \(maxHosts) hosts in one entry")
            }
            let expanded = head + v + tail
            if expanded.utf8.contains(UInt8(ascii: "[")) {
                out.append(contentsOf: try expand(String(expanded)))
            } else {
                out.append(String(expanded))
            }
        }
        return out
    }

    /// The names one `begin:end(:step)` stands for, as strings with their padding.
    private static func rangeValues(_ spec: String, in name: String) throws(HostProblem) -> [String] {
        func bad(_ why: String) -> HostProblem { HostProblem("invalid host range \"\(name)\": \(why)") }
        let bounds = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2 || bounds.count == 3 else {
            throw bad("expected [begin:end] or [begin:end:step]")
        }
        let begin = bounds[0].isEmpty ? "0" : bounds[0], end = bounds[1]
        guard !end.isEmpty else { throw bad("the end is missing") }
        var step = 1
        if bounds.count == 3 {
            guard let s = Int(bounds[2]), s >= 1 else { throw bad("step \"\(bounds[2])\" is not a positive number") }
            step = s
        }
        if let b = Int(begin), let e = Int(end), begin.allSatisfy(\.isASCII), end.allSatisfy(\.isASCII),
            !begin.hasPrefix("-"), !end.hasPrefix("-"), !begin.hasPrefix("+"), !end.hasPrefix("+")
        {
            // A leading zero asks for padding, and then both ends must be written alike.
            let width = begin.hasPrefix("0") && begin.count > 1 ? begin.count : 0
            if width > 0 && end.count != width {
                throw bad("\"\(begin)\" and \"\(end)\" must have the same number of digits for zero padding")
            }
            guard b <= e else { throw bad("start is after end") }
            let (span, overflow) = e.subtractingReportingOverflow(b)
            guard !overflow, span / step < maxHosts else { throw bad("more than \(maxHosts) hosts in one entry") }
            return stride(from: b, through: e, by: step).map { v in
                let s = String(v)
                return width > s.count ? String(repeating: "0", count: width - s.count) + s : s
            }
        }
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard begin.count == 1, end.count == 1, let b = letters.firstIndex(of: begin.first!),
            let e = letters.firstIndex(of: end.first!)
        else {
            throw bad("expected numbers or single letters, got \"\(begin)\" and \"\(end)\"")
        }
        guard b <= e else { throw bad("start is after end") }
        return stride(from: b, through: e, by: step).map { String(letters[$0]) }
    }

    // Ansible's address patterns (ansible/parsing/utils/addresses.py), ranges included.
    private static let numericRange = #"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]"#
    private static let hexRange = #"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]"#
    private static let alnumRange = #"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"#
    private static var v6c: String { "(?:[0-9a-f]{1,4}|\(hexRange))" }
    private static var v4c: String { "(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|\(numericRange))" }
    private static var label: String { #"(?:[\w]|"# + alnumRange + #")(?:[\w_-]|"# + alnumRange + #")*(?<![_-])"# }

    private static let ipv4 = regex("^(?:\(v4c)\\.){3}\(v4c)$", caseless: true)
    private static let hostname = regex("^\(label)(?:\\.\(label))*$", caseless: true)
    private static let ipv6: NSRegularExpression = {
        let c = v6c, v4 = "(?:\(v4c)\\.){3}\(v4c)"
        let forms = [
            "(?:\(c):){7}\(c)", "(?:\(c):){1,6}:", "(?:\(c):)(?::\(c)){1,6}", "(?:\(c):){2}(?::\(c)){1,5}",
            "(?:\(c):){3}(?::\(c)){1,4}", "(?:\(c):){4}(?::\(c)){1,3}", "(?:\(c):){5}(?::\(c)){1,2}",
            "(?:\(c):){6}(?::\(c))", ":(?::\(c)){1,6}", "\(c)?::", "(?:0:){6}\(v4)", "::(?:ffff:)?\(v4)",
            "(?:0:){5}ffff:\(v4)",
        ]
        return regex("^(?:" + forms.joined(separator: "|") + ")$", caseless: true)
    }()

    private static func regex(_ p: String, caseless: Bool = false) -> NSRegularExpression {
        // The patterns are constants: a failure here is a bug, caught by every test run.
        try! NSRegularExpression(pattern: p, options: caseless ? [.caseInsensitive] : [])
    }

    private static func matches(_ r: NSRegularExpression, _ s: String) -> Bool {
        r.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

}

/// Why a host entry was refused; the caller adds the file and line.
struct HostProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
