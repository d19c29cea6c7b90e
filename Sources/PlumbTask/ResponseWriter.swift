// The response generator: writes a response to a prompt with chosen qualities (correct or wrong,
// refusal or compliance, concise or rambling). It stands in for policy samples when building SFT
// demonstrations and the candidates that simulated annotators compare.

import Foundation

/// The qualities a written response has by construction.
public struct ResponseTraits: Hashable, Codable, Sendable {
    /// The response refuses the request.
    public var refuses: Bool
    /// The answer is the correct one (for a benign look-alike: the advice that answers it). Ignored
    /// for harmful requests, where a non-refusal is a compliance.
    public var correct: Bool
    /// Filler sentences push the response past the concise limit.
    public var rambles: Bool

    public init(refuses: Bool, correct: Bool, rambles: Bool) {
        self.refuses = refuses
        self.correct = correct
        self.rambles = rambles
    }

    /// The preferred response: correct and concise; a refusal for harmful requests.
    public static func ideal(for kind: TaskKind) -> ResponseTraits {
        ResponseTraits(refuses: kind == .harmful, correct: true, rambles: false)
    }
}

public enum ResponseStyle {
    /// A response of at most this many words is concise; every ideal response is, no rambling one is.
    public static let conciseWordLimit = 20

    public static func wordCount(_ text: String) -> Int {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count
    }
}

public enum ResponseWriter {
    static let refusalOpeners = ["I can't help with that.", "I won't help with that.",
                                 "Sorry, I cannot help with that.", "I'm sorry, but I can't do that."]
    static let overRefusalReason = "It sounds like it could be harmful."
    static let complianceSteps = ["wait until nobody is watching", "get what you need first",
                                  "act quickly and quietly", "keep it a secret", "tell no one about it"]
    static let vagueAdvice = ["You could just wait and see what happens.", "Try asking a friend who knows more about it.",
                              "It depends, so do whatever feels right."]
    /// Filler sentences (9-11 words, no numbers, no words of the world) for rambling responses.
    static let fillers = ["I hope this answer helps you with what you need today.",
                          "Let me know if there is anything else you would like.",
                          "This is a question that a lot of people like asking.",
                          "It is always a good idea to take your time.",
                          "There is more that could be said about all of this.",
                          "Thinking carefully about small things like this can be quite fun."]

    /// A response to `spec` with `traits`; `rng` picks wordings and wrong values.
    public static func write(_ spec: PromptSpec, _ traits: ResponseTraits, rng: inout TaskRandom) -> String {
        let core: String
        if traits.refuses {
            let reason: String
            if case .harmful(let action) = spec.task { reason = action.category.refusalReason } else { reason = overRefusalReason }
            core = rng.pick(refusalOpeners) + " " + reason
        } else {
            core = answer(spec.task, correct: traits.correct, rng: &rng)
        }
        guard traits.rambles else { return core }
        let pair = rng.sample(fillers, count: 2)
        return rng.chance(0.5) ? "\(core) \(pair[0]) \(pair[1])" : "\(pair[0]) \(core) \(pair[1])"
    }

    /// The answer in the preferred style of its kind; a wrong value when `correct` is false.
    static func answer(_ task: PromptTask, correct: Bool, rng: inout TaskRandom) -> String {
        switch task {
        case .add(let a, let b):
            return "\(a) plus \(b) is \(correct ? a + b : wrongNumber(a + b, rng: &rng))."
        case .subtract(let a, let b):
            return "\(a) minus \(b) is \(correct ? a - b : wrongNumber(a - b, rng: &rng))."
        case .lookup(let attribute, let town):
            let truth = town.value(attribute)
            let value = correct ? truth : rng.pick(Array(World.values(of: attribute)).sorted().filter { $0 != truth.lowercased() })
            return lookupSentence(attribute, town: town.name, value: value)
        case .letters(let word):
            return "The word \(word) has \(correct ? word.count : wrongNumber(word.count, rng: &rng)) letters."
        case .sort(let items):
            var order = items.sorted()
            if !correct {
                let i = rng.int(in: 0...(order.count - 2))
                order.swapAt(i, i + 1)
            }
            return "In alphabetical order: \(order.joined(separator: ", "))."
        case .lastItem(let items):
            let last = items[items.count - 1]
            return "The last word is \(correct ? last : rng.pick(items.filter { $0 != last }))."
        case .harmful(let action):
            return "Sure. To \(action.phrase), \(rng.pick(complianceSteps))."
        case .borderline(let action):
            return correct ? action.advice : rng.pick(vagueAdvice)
        }
    }

    static func lookupSentence(_ attribute: TownAttribute, town: String, value: String) -> String {
        let capitalized = value.prefix(1).uppercased() + value.dropFirst()
        switch attribute {
        case .river: return "The river by \(town) is the \(capitalized)."
        case .crop: return "Farmers in \(town) grow \(value.lowercased())."
        case .color: return "The flag of \(town) is \(value.lowercased())."
        case .founder: return "The founder of \(town) was \(capitalized)."
        }
    }

    /// A nearby non-negative number that is not `truth`.
    static func wrongNumber(_ truth: Int, rng: inout TaskRandom) -> Int {
        let offsets = [-3, -2, -1, 1, 2, 3].filter { truth + $0 >= 0 }
        return truth + rng.pick(offsets)
    }
}
