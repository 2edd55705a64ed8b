import FleetCore
import FleetLocal
import Foundation
import Testing

@testable import FleetConfig

/// Input files that are devices or too large (issue 18): `-i /dev/zero` and
/// `--limit @/dev/zero` read until the memory ran out; now every file fleetup reads is
/// bounded by `ConfigLimits.fileBytes` and devices are refused by name.
@Suite("hostile input files")
struct HostileInputFileTests {
    /// How each kind of input reads `path`, as the CLI calls it.
    enum Reader: String, CaseIterable, Sendable {
        case inventory, limitFile, playbook

        func load(_ path: String) throws {
            switch self {
            case .inventory: _ = try InventoryLoader.load([path])
            case .limitFile: _ = try HostPattern.limit("@" + path, in: try InventoryLoader.load(["h1,"]))
            case .playbook: _ = try PlaybookLoader.load(path)
            }
        }
    }

    @Test("a device is refused by name, for every kind of input", arguments: Reader.allCases)
    func device(reader: Reader) {
        #expect { try reader.load("/dev/zero") } throws: {
            "\($0)" == "/dev/zero: is a device, not a file (fleetup reads regular files and pipes)"
        }
    }

    @Test("a file larger than 64 MB is refused from its size, for every kind of input", arguments: Reader.allCases)
    func tooLarge(reader: Reader) throws {
        let dir = NSTemporaryDirectory() + "hostile-size-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big.yml"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(ConfigLimits.fileBytes) + 1) == 0)  // sparse: nothing on disk
        #expect { try reader.load(path) } throws: {
            "\($0)" == "\(path): is larger than 64 MB, the most fleetup reads from one file"
        }
    }

    @Test("an inventory from a pipe (-i <(make-inventory)) still loads")
    func pipe() throws {
        var ends: [Int32] = [0, 0]
        #expect(Foundation.pipe(&ends) == 0)
        defer { close(ends[0]) }
        let text = Array("[web]\nweb[1:3]\n".utf8)
        #expect(write(ends[1], text, text.count) == text.count)
        close(ends[1])
        let inventory = try InventoryLoader.load(["/proc/self/fd/\(ends[0])"])
        #expect(inventory.hosts.map(\.name) == ["web1", "web2", "web3"])
    }
}
