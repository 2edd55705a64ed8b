/// A release version as upgrade paths compare them: `5.3.0`, `v3.1.2`, `5.10.0-rc1`.
///
/// Ordering is Semantic Versioning's precedence: numbers compare as numbers (`5.10.0` is
/// after `5.9.1`), missing numbers are zeros (`5.3` equals `5.3.0`), a pre-release comes
/// before its release (`5.3.0-rc1` < `5.3.0`), pre-release identifiers compare numerically
/// when both are numbers, as text otherwise, numbers first (`rc.2` < `rc.10` < `rc.a`), and
/// build metadata (`+build.7`) is ignored. A leading `v` is ignored too, so a host whose
/// version command prints `3.1.2` is on the release the playbook writes `v3.1.2`.
public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// As written (`v3.1.2`): what templates insert and plans show.
    public let text: String
    /// The numbers, 1 to 4 of them (`[3, 1, 2]`).
    public let numbers: [Int]
    /// Pre-release identifiers (`["rc", "1"]` for `-rc.1`); empty for a release.
    public let prerelease: [String]

    /// Parses `v1.2.3-rc.1+build`; nil when the text is not a version.
    public init?(_ text: String) {
        var body = Substring(text)
        if body.first == "v" || body.first == "V" { body = body.dropFirst() }
        if let plus = body.firstIndex(of: "+") {
            let build = body[body.index(after: plus)...]
            guard !build.isEmpty, build.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(Self.isIdentifier) else {
                return nil
            }
            body = body[..<plus]
        }
        var pre: [String] = []
        if let dash = body.firstIndex(of: "-") {
            let tail = body[body.index(after: dash)...]
            let parts = tail.split(separator: ".", omittingEmptySubsequences: false)
            guard !tail.isEmpty, parts.allSatisfy(Self.isIdentifier) else { return nil }
            pre = parts.map(String.init)
            body = body[..<dash]
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 9, p.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(p) else { return nil }
            numbers.append(n)
        }
        self.text = text
        self.numbers = numbers
        self.prerelease = pre
    }

    public var description: String { text }

    private static func isIdentifier(_ s: Substring) -> Bool {
        !s.isEmpty
            && s.utf8.allSatisfy { c in
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45
            }
    }

    /// Precedence order (equal versions written differently, `v5.3` and `5.3.0`, are equal).
    public static func < (a: Version, b: Version) -> Bool { compare(a, b) < 0 }

    public static func == (a: Version, b: Version) -> Bool { compare(a, b) == 0 }

    public func hash(into hasher: inout Hasher) {
        var n = numbers
        while n.count > 1 && n.last == 0 { n.removeLast() }
        hasher.combine(n)
        hasher.combine(prerelease)
    }

    /// -1, 0 or 1.
    static func compare(_ a: Version, _ b: Version) -> Int {
        for i in 0..<max(a.numbers.count, b.numbers.count) {
            let x = i < a.numbers.count ? a.numbers[i] : 0
            let y = i < b.numbers.count ? b.numbers[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        switch (a.prerelease.isEmpty, b.prerelease.isEmpty) {
        case (true, true): return 0
        case (true, false): return 1
        case (false, true): return -1
        case (false, false): break
        }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            switch (Int(x), Int(y)) {
            case let (m?, n?): return m < n ? -1 : 1
            case (.some, nil): return -1
            case (nil, .some): return 1
            case (nil, nil): return x < y ? -1 : 1
            }
        }
        if a.prerelease.count == b.prerelease.count { return 0 }
        return a.prerelease.count < b.prerelease.count ? -1 : 1
    }

    /// The first `x.y.z` in a command's output (`Version: 5.3.0`, `v3.1.2-rc1`): three
    /// numbers, an optional `v` before them and an optional `-pre-release` after, standing
    /// on their own (not part of a longer word or of `10.0.0.1`).
    public static func first(in output: String) -> Version? {
        let bytes = Array(output.utf8)
        func isDigit(_ i: Int) -> Bool { i >= 0 && i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 }
        func isWord(_ i: Int) -> Bool {
            guard i >= 0 && i < bytes.count else { return false }
            let c = bytes[i]
            return isDigit(i) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
        }
        var i = 0
        while i < bytes.count {
            guard isDigit(i) else { i += 1; continue }
            var start = i
            if i > 0 && (bytes[i - 1] == UInt8(ascii: "v") || bytes[i - 1] == UInt8(ascii: "V")) { start = i - 1 }
            let clean = start == 0 || (!isWord(start - 1) && bytes[start - 1] != UInt8(ascii: "."))
            // Three dot-separated numbers.
            var j = i
            var groups = 0
            while groups < 3 {
                guard isDigit(j) else { break }
                while isDigit(j) { j += 1 }
                groups += 1
                if groups < 3 {
                    guard j < bytes.count, bytes[j] == UInt8(ascii: "."), isDigit(j + 1) else { break }
                    j += 1
                }
            }
            let fourth = j < bytes.count && bytes[j] == UInt8(ascii: ".") && isDigit(j + 1)
            if groups == 3 && clean && !fourth && !isWord(j) {
                var end = j
                if end < bytes.count, bytes[end] == UInt8(ascii: "-"), isWord(end + 1) {
                    var k = end + 1
                    while k < bytes.count, isWord(k) || bytes[k] == UInt8(ascii: "-") || (bytes[k] == UInt8(ascii: ".") && isWord(k + 1)) {
                        k += 1
                    }
                    end = k
                }
                if let v = Version(String(decoding: bytes[start..<end], as: UTF8.self)) { return v }
            }
            // Skip this run of digits and dots: a number inside it is not a version of its own.
            while j < bytes.count, isDigit(j) || bytes[j] == UInt8(ascii: ".") { j += 1 }
            i = max(j, i + 1)
        }
        return nil
    }
}
