import FleetCore

/// Renders a playbook's health probes for one host.
public enum HealthPlanner {
    /// The probes with their templates rendered (`scope` has the facts `host` and `target`).
    public static func probes(_ probes: [HealthProbe], scope: TemplateScope) throws(PathError) -> [PlannedProbe] {
        var out: [PlannedProbe] = []
        for p in probes {
            do {
                out.append(try probe(p, scope: scope))
            } catch let e as PathError {
                throw e
            } catch let e as TemplateError {
                throw PathError(.render, "health: \(e.message)", line: p.line)
            } catch {
                throw PathError(.render, "health: \(error)", line: p.line)
            }
        }
        return out
    }

    private static func probe(_ p: HealthProbe, scope: TemplateScope) throws -> PlannedProbe {
        let kind: PlannedProbe.Kind
        switch p.kind {
        case .http(let url):
            let u = try scope.render(url, as: .text).text
            guard let parsed = parseURL(u) else {
                throw PathError(.render, "health: \"\(u)\" is not an http URL (expected http://HOST:PORT/PATH; the probe goes through the SSH connection, so no TLS)", line: p.line)
            }
            kind = .http(host: parsed.host, port: parsed.port, path: parsed.path)
        case .tcp(let address):
            let a = try scope.render(address, as: .text).text
            guard let parsed = parseAddress(a) else {
                throw PathError(.render, "health: tcp \"\(a)\" is not an address (expected PORT or HOST:PORT)", line: p.line)
            }
            kind = .tcp(host: parsed.host, port: parsed.port)
        case .command(let t):
            kind = .command(try scope.render(t, as: .shell).command(timeout: p.timing.timeout))
        }
        return PlannedProbe(kind: kind, expectStatus: p.expectStatus,
                            bodyContains: try p.bodyContains.map { try scope.render($0, as: .text).text },
                            timing: p.timing, logs: try p.logs.map { try scope.render($0, as: .shell).command() })
    }

    /// `http://host:port/path` (port 80 when absent, path `/` when absent).
    static func parseURL(_ url: String) -> (host: String, port: Int, path: String)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        if authority.contains(":") {
            guard let a = parseAddress(authority) else { return nil }
            return (a.host, a.port, path)
        }
        return (authority, 80, path)
    }

    /// `3000`, `127.0.0.1:3000`, `[::1]:3000`.
    static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        if let p = Int(text), (1...65535).contains(p) { return ("127.0.0.1", p) }
        var host: Substring
        var port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            port = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, let p = Int(port), (1...65535).contains(p) else { return nil }
        return (String(host), p)
    }
}
