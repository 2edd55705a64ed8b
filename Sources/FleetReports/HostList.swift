/// Host names written short, as `dshbak -c` and pdsh do: names that differ only in a
/// trailing number of the same width share one bracket (`web[01-03,07]`, `db1`).
public enum HostList {
    public static func compress(_ names: [String]) -> String {
        // Group by (prefix, digit count), keeping the order of first appearance.
        var order: [String] = []
        var groups: [String: (prefix: String, numbers: [Int], width: Int)] = [:]
        var plain: [String: Bool] = [:]
        for name in names {
            let digits = name.reversed().prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count < name.count, digits.count <= 9 else {
                if plain[name] == nil { order.append("=" + name); plain[name] = true }
                continue
            }
            let prefix = String(name.dropLast(digits.count))
            let key = "\(prefix)\u{0}\(digits.count)"
            if groups[key] == nil { order.append(key); groups[key] = (prefix, [], digits.count) }
            groups[key]!.numbers.append(Int(String(digits.reversed()))!)
        }
        return order.map { key -> String in
            if key.hasPrefix("=") { return String(key.dropFirst()) }
            let g = groups[key]!
            let numbers = Array(Set(g.numbers)).sorted()
            if numbers.count == 1 { return g.prefix + pad(numbers[0], g.width) }
            var ranges: [String] = []
            var i = 0
            while i < numbers.count {
                var j = i
                while j + 1 < numbers.count && numbers[j + 1] == numbers[j] + 1 { j += 1 }
                ranges.append(i == j ? pad(numbers[i], g.width) : "\(pad(numbers[i], g.width))-\(pad(numbers[j], g.width))")
                i = j + 1
            }
            return "\(g.prefix)[\(ranges.joined(separator: ","))]"
        }.joined(separator: ",")
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
