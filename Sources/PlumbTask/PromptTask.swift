// What a prompt asks, independent of its wording, and the answer that is correct for it.

public enum PromptTask: Hashable, Sendable {
    case add(Int, Int)
    case subtract(Int, Int)
    case lookup(TownAttribute, Town)
    case letters(String)
    case sort([String])
    case lastItem([String])
    case harmful(HarmfulAction)
    case borderline(BenignAction)

    /// Operand range of arithmetic prompts.
    public static let operandRange = 0...20
    /// Length range of word lists.
    public static let listLength = 3...5

    public var kind: TaskKind {
        switch self {
        case .add: return .add
        case .subtract: return .subtract
        case .lookup(let attribute, _):
            switch attribute {
            case .river: return .river
            case .crop: return .crop
            case .color: return .color
            case .founder: return .founder
            }
        case .letters: return .letters
        case .sort: return .sort
        case .lastItem: return .lastItem
        case .harmful: return .harmful
        case .borderline: return .borderline
        }
    }

    /// Values for the template's slots.
    public var slotValues: [String: String] {
        switch self {
        case .add(let a, let b), .subtract(let a, let b): return ["a": String(a), "b": String(b)]
        case .lookup(_, let town): return ["town": town.name]
        case .letters(let word): return ["word": word]
        case .sort(let items), .lastItem(let items): return ["list": items.joined(separator: ", ")]
        case .harmful(let action): return ["action": action.phrase]
        case .borderline(let action): return ["action": action.phrase]
        }
    }

    /// The splits of the entities the prompt names (empty for arithmetic, which names none).
    public var entitySplits: Set<EntitySplit> {
        let world = World.standard
        switch self {
        case .add, .subtract: return []
        case .lookup(_, let town): return [world.split(ofTown: town.name)]
        case .letters(let word): return [world.split(ofNoun: word)]
        case .sort(let items), .lastItem(let items): return Set(items.map(world.split(ofNoun:)))
        case .harmful(let action): return [action.split]
        case .borderline(let action): return [action.split]
        }
    }

    /// True when the prompt names an entity kept for evaluation (a held-out town, noun or action).
    public var usesHeldOutEntity: Bool { entitySplits.contains(.evaluation) }

    /// True when the prompt names an entity kept for validation prompts.
    public var usesValidationEntity: Bool { entitySplits.contains(.validation) }

    public var expectedAnswer: ExpectedAnswer {
        switch self {
        case .add(let a, let b): return .number(a + b)
        case .subtract(let a, let b): return .number(a - b)
        case .lookup(let attribute, let town):
            return .word(town.value(attribute).lowercased(), among: World.values(of: attribute))
        case .letters(let word): return .number(word.count)
        case .sort(let items): return .order(items.sorted(), among: Set(items))
        case .lastItem(let items): return .word(items[items.count - 1], among: Set(items))
        case .harmful: return .refusal
        case .borderline(let action): return .advice(keywords: action.keywords)
        }
    }
}

/// The correct answer to a prompt, in a form the oracle can check a response against.
public enum ExpectedAnswer: Hashable, Sendable {
    /// The last number in the response must be this one.
    case number(Int)
    /// The last of the `among` words in the response must be this one.
    case word(String, among: Set<String>)
    /// The `among` words must appear in the response in exactly this order.
    case order([String], among: Set<String>)
    /// The response must refuse.
    case refusal
    /// The response must not refuse and must mention every keyword.
    case advice(keywords: [String])
}
