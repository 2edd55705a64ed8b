/// A JSON string's text as UTF-8 bytes, for the writers that make JSON by hand (the
/// journal's events, the reports' documents).
public enum JSONQuote {
    /// Appends `"s"` to `out`: `"` and `\` escaped, `\n \r \t` (and `\b \f` with
    /// `backspaceAndFormFeed`, as Foundation's `JSONEncoder` writes them), every other control
    /// character below 0x20 as `\u00XX` in lower case; the rest, `/` and non-ASCII included,
    /// as it is. Runs of bytes that need no escape are copied whole.
    public static func append(_ s: String, to out: inout [UInt8], backspaceAndFormFeed: Bool) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            var run = 0
            for i in 0..<u.count {
                let c = u[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i])) }
                run = i + 1
                out.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(c)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08 where backspaceAndFormFeed: out.append(UInt8(ascii: "b"))
                case 0x0C where backspaceAndFormFeed: out.append(UInt8(ascii: "f"))
                default:
                    out.append(UInt8(ascii: "u"))
                    out.append(UInt8(ascii: "0"))
                    out.append(UInt8(ascii: "0"))
                    out.append(hex[Int(c >> 4)])
                    out.append(hex[Int(c & 0xF)])
                }
            }
            if run < u.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)
}
