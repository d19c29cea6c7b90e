// A stage's declared inputs: each slot has a name (the pipeline file's `inputs:` key and the command
// line's flag), a cardinality, and says what it takes. `StageInputs` holds the resolved paths by slot.
import Foundation

public struct InputSlot: Sendable, Equatable {
    public enum Cardinality: Sendable, Equatable {
        case one, optional, oneOrMore, any

        var text: String {
            switch self {
            case .one: return "exactly one"
            case .optional: return "at most one"
            case .oneOrMore: return "one or more"
            case .any: return "any number of"
            }
        }
    }

    public var name: String
    public var cardinality: Cardinality
    public var help: String
    /// The one slot a command line may give without its flag (`plumb import FILE`).
    public var positional: Bool

    public init(_ name: String, _ cardinality: Cardinality, _ help: String, positional: Bool = false) {
        self.name = name
        self.cardinality = cardinality
        self.help = help
        self.positional = positional
    }
}

/// Paths by slot, in the order given.
public struct StageInputs: Sendable, Equatable {
    public var paths: [String: [URL]]

    public init(_ paths: [String: [URL]] = [:]) { self.paths = paths.filter { !$0.value.isEmpty } }

    public func one(_ slot: String) throws -> URL {
        guard let url = paths[slot]?.first else { throw StageParameterError(slot, "this input is required") }
        return url
    }

    public func optional(_ slot: String) -> URL? { paths[slot]?.first }
    public func all(_ slot: String) -> [URL] { paths[slot] ?? [] }

    /// Every slot given is declared and has as many paths as it takes.
    public func check(_ slots: [InputSlot], kind: StageKind) throws {
        let names = slots.map(\.name)
        for name in paths.keys.sorted() where !names.contains(name) {
            throw StageParameterError(name, "\(kind) has no input `\(name)` (inputs: \(names.joined(separator: ", ")))")
        }
        for slot in slots {
            let count = paths[slot.name]?.count ?? 0
            let fits: Bool
            switch slot.cardinality {
            case .one: fits = count == 1
            case .optional: fits = count <= 1
            case .oneOrMore: fits = count >= 1
            case .any: fits = true
            }
            if !fits { throw StageParameterError(slot.name, "\(kind) takes \(slot.cardinality.text) `\(slot.name)` input, \(count) given") }
        }
    }
}
