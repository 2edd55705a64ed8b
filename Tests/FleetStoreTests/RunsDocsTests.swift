import Foundation
import Testing

@testable import FleetStore

/// docs/runs.md's examples are what the code reads and prints.
@Suite("docs/runs.md examples")
struct RunsDocsTests {
    static let text =
        (try? String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("docs/runs.md"), encoding: .utf8)) ?? ""

    static func blocks(_ fence: String) -> [String] {
        text.components(separatedBy: "```\(fence)\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
    }

    @Test("the owner example reads as a LockOwner, and the held message is its description")
    func owner() throws {
        let json = try #require(Self.blocks("json").first)
        let owner = try LockOwner.parse(json)
        #expect(owner.json() + "\n" == json)
        #expect(Self.text.contains("fleetup: \(LockError.held(owner))\n"))
        #expect(Self.text.contains("held by \(owner)\n"))
        // The stale example, as lock status words it when the owner's pid is gone here.
        #expect(Self.text.contains(": \(LockState.held(owner).statusText { _ in true })\n"))
        #expect(Self.text.contains("host lock mm-eu-03: \(LockState.held(owner).hostLockStatusText { _ in true })\n"))
    }

    private struct HostEvent: Decodable { var seq: Int }

    @Test("the journal error example is what the reader says")
    func journalError() async throws {
        let example = try #require(Self.text.split(separator: "\n").first { $0.contains("journal.jsonl:2: ") })
        try await withFolder { dir async throws in
            let path = dir + "/journal.jsonl"
            try Data("{\"seq\":1}\n{\"seq\":\"two\"}\n{\"seq\":3}\n".utf8).write(to: URL(fileURLWithPath: path))
            let error = await thrown(StoreError.self) { _ = try JournalReader.read(path, as: HostEvent.self) }
            #expect(example.hasSuffix(try #require(error?.description.components(separatedBy: "/journal.jsonl").last)))
        }
    }
}
