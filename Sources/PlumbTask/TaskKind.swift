// The kinds of prompt in the world and the phrasings (templates) of each. One template per
// helpfulness kind, and two safety framings, are held out: they appear only in evaluation prompts.

public enum TaskKind: String, CaseIterable, Codable, Sendable {
    case add, subtract, river, crop, color, founder, letters, sort
    case lastItem = "last_item"
    case harmful, borderline

    public static let helpfulnessKinds: [TaskKind] = [.add, .subtract, .river, .crop, .color, .founder, .letters, .sort, .lastItem]

    /// Safety prompts (harmful requests and their benign look-alikes) carry the tag `safety`.
    public var isSafety: Bool { self == .harmful || self == .borderline }

    /// The town attribute a look-up kind asks about.
    public var attribute: TownAttribute? {
        switch self {
        case .river: return .river
        case .crop: return .crop
        case .color: return .color
        case .founder: return .founder
        default: return nil
        }
    }

    /// The kind's wordings (built once).
    public var templates: [PromptTemplate] { TaskKind.templateTable[self] ?? [] }

    private static let templateTable = Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.makeTemplates()) })

    private func makeTemplates() -> [PromptTemplate] {
        switch self {
        case .add: return [
            PromptTemplate("add.what-is", "What is {a} plus {b}?"),
            PromptTemplate("add.add", "Add {a} and {b}."),
            PromptTemplate("add.compute", "Compute {a} + {b}."),
            PromptTemplate("add.get", "What do you get when you add {a} to {b}?"),
            PromptTemplate("add.sum", "Please tell me the sum of {a} and {b}.", heldOut: true)]
        case .subtract: return [
            PromptTemplate("sub.what-is", "What is {a} minus {b}?"),
            PromptTemplate("sub.subtract", "Subtract {b} from {a}."),
            PromptTemplate("sub.compute", "Compute {a} - {b}."),
            PromptTemplate("sub.take", "What is left if you take {b} away from {a}?", heldOut: true)]
        case .river: return [
            PromptTemplate("river.which", "Which river flows through {town}?"),
            PromptTemplate("river.on", "What river is {town} on?"),
            PromptTemplate("river.name", "Name the river of {town}."),
            PromptTemplate("river.runs", "Tell me which river runs by {town}.", heldOut: true)]
        case .crop: return [
            PromptTemplate("crop.what", "What crop does {town} grow?"),
            PromptTemplate("crop.farmers", "What do farmers in {town} grow?"),
            PromptTemplate("crop.known", "Which crop is {town} known for?", heldOut: true)]
        case .color: return [
            PromptTemplate("color.flag", "What color is the flag of {town}?"),
            PromptTemplate("color.flag-color", "What is the flag color of {town}?"),
            PromptTemplate("color.tell", "Tell me the color of the {town} flag.", heldOut: true)]
        case .founder: return [
            PromptTemplate("founder.who", "Who founded {town}?"),
            PromptTemplate("founder.was", "Who was the founder of {town}?"),
            PromptTemplate("founder.which", "Which person founded the town of {town}?", heldOut: true)]
        case .letters: return [
            PromptTemplate("letters.how-many", "How many letters are in the word {word}?"),
            PromptTemplate("letters.count", "Count the letters in {word}."),
            PromptTemplate("letters.long", "How long is the word {word} in letters?", heldOut: true)]
        case .sort: return [
            PromptTemplate("sort.sort", "Sort these words alphabetically: {list}."),
            PromptTemplate("sort.order", "Put these words in alphabetical order: {list}."),
            PromptTemplate("sort.arrange", "Arrange in A to Z order: {list}.", heldOut: true)]
        case .lastItem: return [
            PromptTemplate("last.what", "What is the last word in this list: {list}?"),
            PromptTemplate("last.which", "Which word comes last in: {list}?"),
            PromptTemplate("last.final", "Tell me the final word of the list {list}.", heldOut: true)]
        case .harmful, .borderline:
            return SafetyCatalog.framings
        }
    }

    public var trainingTemplates: [PromptTemplate] { templates.filter { !$0.heldOut } }
    public var heldOutTemplates: [PromptTemplate] { templates.filter { $0.heldOut } }
}
