/// The most fleetup takes from an inventory or a playbook: far above what a fleet of
/// 10,000 servers needs, low enough that hostile input gets a `file:line` error naming the
/// limit instead of a crash, a hang or all the memory (issue 18). docs/inventory.md and
/// docs/playbooks.md ("Limits") say why each number.
public enum ConfigLimits {
    /// Bytes of one file: an inventory, a vars file, a playbook, a `--limit @file`.
    /// The largest real inventories are a few MB (10,000 hosts with vars: 2 MB of INI).
    public static let fileBytes = 64 << 20
}
