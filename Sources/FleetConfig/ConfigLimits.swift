/// The most fleetup takes from an inventory or a playbook: far above what a fleet of
/// 10,000 servers needs, low enough that hostile input gets a `file:line` error naming the
/// limit instead of a crash, a hang or all the memory (issue 18). docs/inventory.md and
/// docs/playbooks.md ("Limits") say why each number.
public enum ConfigLimits {
    /// Hosts in one inventory (all `-i` sources together), and so in one range entry:
    /// ten times the largest fleet fleetup is made for. Each costs about 1 KB loaded.
    public static let hosts = 100_000

    /// Bytes of one file: an inventory, a vars file, a playbook, a `--limit @file`.
    /// The largest real inventories are a few MB (10,000 hosts with vars: 2 MB of INI).
    public static let fileBytes = 64 << 20

    /// Nodes that YAML aliases may expand to, in one file, counted over every alias (an
    /// alias of a 10-node mapping counts 10). 10,000 hosts each merging (`<<: *defaults`)
    /// 49 default variables stay under it; a 570-byte "billion laughs" expanded to 10^9.
    public static let aliasNodes = 1_000_000

    /// Nesting of YAML lists and mappings: libyaml's own limit (its MAX_NESTING_LEVEL; it
    /// counts parser states, so flow collections get a little further), kept: each level
    /// is a frame of recursion in Yams and in the readers.
    public static let yamlNesting = 1000
}
