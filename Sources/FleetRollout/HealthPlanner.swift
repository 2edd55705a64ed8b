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
            let a: ProbeAddress
            do { a = try ProbeAddress.url(u) } catch { throw problem("http", error, p, scope) }
            kind = .http(host: a.host, port: a.port, path: a.path)
        case .tcp(let address):
            let t = try scope.render(address, as: .text).text
            let a: ProbeAddress
            do { a = try ProbeAddress.tcp(t) } catch { throw problem("tcp", error, p, scope) }
            kind = .tcp(host: a.host, port: a.port)
        case .command(let t):
            kind = .command(try scope.render(t, as: .shell).command(timeout: p.timing.timeout))
        }
        return PlannedProbe(
            kind: kind, expectStatus: p.expectStatus,
            bodyContains: try p.bodyContains.map { try scope.render($0, as: .text).text },
            timing: p.timing, logs: try p.logs.map { try scope.render($0, as: .shell).command() })
    }

    /// The parser's message quotes the rendered value: a secret in it shows as the mask.
    private static func problem(_ kind: String, _ error: ProbeAddress.Problem, _ p: HealthProbe, _ scope: TemplateScope) -> PathError {
        PathError(.render, "health: \(kind): \(Redactor(scope: scope).redact(error.message))", line: p.line)
    }
}
