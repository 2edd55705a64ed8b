import Testing

@testable import FleetTestFleet

/// Test hosts' ports stay out of the kernel's ephemeral range, whatever the machine's is
/// (a CI runner's sshd once lost its port to another process's bind).
@Suite("test fleet ports")
struct PortAllocatorTests {
    @Test(
        "ports outside ip_local_port_range",
        arguments: [
            ("32768\t60999\n", 20000..<32000),  // Linux's default
            ("40000 60999", 20000..<32000),
            ("25000 60999", 20000..<25000),
            ("1024 50000", 50001..<65536),  // the whole low range is ephemeral: above it
            ("1024 65535", 20000..<32000),  // no room: clashes are retried by TestFleet.up
            ("", 20000..<32000),
        ])
    func range(text: String, expected: Range<Int>) {
        #expect(PortAllocator.outsideEphemeral(text) == expected)
    }
}
