import FleetConfig
import FleetCore
import Foundation
import Testing

/// Hostile playbooks (issue 18): each one crashed, hung or filled the memory; now each gets
/// its exact `file:line: where: problem` naming the limit. Small ones are fixtures in
/// Fixtures/hostile/playbooks/; big ones are generated here.
@Suite("hostile playbooks")
struct HostilePlaybookTests {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/hostile/playbooks")

    static let cases: [(String, [String])] = [
        // vars expanding to 10^9 nodes through aliases: 3 GB and a hang.
        ("billion-laughs.yml", ["billion-laughs.yml:15: aliases expand to more than 1000000 nodes (the limit; a YAML \"billion laughs\"?)"]),
        // rolling.pause past Int64 milliseconds trapped in the conversion.
        ("pause-huge.yml", ["pause-huge.yml:9: rolling.pause: expected a duration of at most 30d (the longest fleetup accepts), got \"99999999999999999999d\""]),
        // a bare number of seconds with 400 digits is inf to Double.
        ("step-timeout-huge.yml", ["step-timeout-huge.yml:8: step \"stop\": timeout: expected a duration of at most 30d (the longest fleetup accepts), got \"1\(String(repeating: "0", count: 400))\""]),
        ("soak-huge.yml", ["soak-huge.yml:9: rolling.gate: soak 9999999999999d: expected a duration of at most 30d (the longest fleetup accepts)"]),
        ("soak-map-huge.yml", ["soak-map-huge.yml:9: rolling.gate: soak: expected a duration of at most 30d (the longest fleetup accepts), got \"31d\""]),
        // every probe timing goes through the same parser.
        ("probe-huge.yml", ["probe-huge.yml:10: health[1]: period: expected a duration of at most 30d (the longest fleetup accepts), got \"99999999999999999999d\"",
                            "probe-huge.yml:11: health[1]: deadline: expected a duration of at most 30d (the longest fleetup accepts), got \"1000000h\""]),
    ]

    @Test("each hostile playbook fixture, its exact messages", arguments: cases)
    func fixture(file: String, messages: [String]) throws {
        let path = Self.folder.appendingPathComponent(file).path
        do {
            _ = try PlaybookLoader.load(path)
            Issue.record("\(file) loaded, but it is hostile")
        } catch let e as ConfigErrors {
            #expect(e.errors.map { $0.description.replacingOccurrences(of: path, with: file) } == messages)
        }
    }

    @Test("every hostile playbook fixture is in the table")
    func complete() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".yml") }.sorted()
        #expect(files == Self.cases.map(\.0).sorted())
    }
}
