// The one name of a stage kind: what a pipeline file's `kind:` says, what a manifest's `kind` records
// and what the command line calls (`plumb sft`, `plumb rm train`). Each stage declares its own
// constant beside its code (`extension StageKind { static let sft: StageKind = "sft" }`), so a new
// kind, also one from outside this library, needs no edit here.
import Foundation

public struct StageKind: Hashable, Codable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Words separated by single spaces (`rm train`); the command line's subcommand path.
    public let name: String

    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }
    public init(from decoder: Decoder) throws { name = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    public var description: String { name }
    /// The command words: `rm train` -> ["rm", "train"].
    public var words: [String] { name.split(separator: " ").map(String.init) }
    public static func < (a: StageKind, b: StageKind) -> Bool { a.name < b.name }
}
