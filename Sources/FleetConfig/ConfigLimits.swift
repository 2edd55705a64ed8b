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

    /// Items in one file: YAML lines, list items and mapping entries (counted before it is
    /// parsed), INI lines and variables. 100,000 hosts with ten variables each are ~2.3
    /// million; the densest YAML (`k: v` per line) costs ~700 bytes per entry while it is
    /// parsed, so this bounds one file to ~900 MB (an 8 MB flow list took 700 MB).
    public static let fileItems = 2_500_000

    /// Items in all the files of one inventory (sources and vars files): what stays loaded.
    public static let totalItems = 5_000_000

    /// Groups in one inventory: one per host at the hosts limit, and as many again
    /// above them. Each costs a few hundred bytes (1,000,000 `[gN]` lines took 600 MB).
    public static let groups = 200_000

    /// Variables the hosts hold once merged (each host's groups' variables with its own),
    /// counted over the merged sets the hosts do not share: 100,000 hosts with 50
    /// variables each are 5 million. A group_vars file of 100,000 variables under 100,000
    /// hosts that have one of their own would otherwise be 10^10 entries.
    public static let mergedVariables = 10_000_000
}
