/// Characters a host name or address must not hold: a NUL ends it where C code reads it
/// (getaddrinfo would reach `web` for `web\0evil`), and other controls or line separators
/// garble every line that names the host. One definition for the inventory and ssh settings.
public enum ControlCharacters {
    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    public static func isControl(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x20 || (0x7F...0x9F).contains(c.value) || c.value == 0x2028 || c.value == 0x2029
    }

    /// `"NAME" has a control character, U+0000` with the name shown safely, or nil.
    public static func problem(in text: String) -> String? {
        guard let bad = text.unicodeScalars.first(where: isControl) else { return nil }
        return "\"\(visible(text))\" has a control character, \(code(bad))"
    }

    /// `U+0000`.
    public static func code(_ c: Unicode.Scalar) -> String {
        let hex = String(c.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The text with each control character written `\uXXXX` (as JSON would), so a message
    /// shows where it is and never carries it to the terminal.
    public static func visible(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            if isControl(c) { out += "\\u" + code(c).dropFirst(2) } else { out.unicodeScalars.append(c) }
        }
        return out
    }
}
