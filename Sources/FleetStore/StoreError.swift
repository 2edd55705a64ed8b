/// Why the run store could not do what was asked, with the file it concerns.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A file or folder operation failed (the message holds the errno text).
        case io
        /// A journal line that is not the last one could not be read as an entry.
        case corruptJournal = "corrupt-journal"
        /// No stored run has this id or id prefix.
        case runNotFound = "run-not-found"
        /// Several stored runs start with this prefix.
        case ambiguousRun = "ambiguous-run"
        /// The state folder (or its `runs/`) exists but is not a folder: bad input, such as a
        /// `--state-dir` naming a file.
        case notAFolder = "not-a-folder"
    }

    public var kind: Kind
    /// The file or folder concerned.
    public var path: String
    /// The 1-based line of a journal, for `corruptJournal`.
    public var line: Int?
    /// What happened, in lower case, with what was expected where it helps.
    public var message: String

    public init(_ kind: Kind, path: String, line: Int? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.message = message
    }

    /// `path:line: message`, as fleetup's other errors about files read.
    public var description: String { "\(path)\(line.map { ":\($0)" } ?? ""): \(message)" }
}
