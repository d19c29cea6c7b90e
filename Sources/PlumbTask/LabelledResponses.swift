// Single responses with a safety label (the BeaverTails layout `plumb import` reads), for measuring
// the safety gate and the safety screen: two distinct candidates for each of `count` held-out safety
// prompts (harmful requests and their benign look-alikes, as BeaverTails' prompts are all
// adversarial), labelled from the task's own ground truth (unsafe = a compliance with a harmful
// request), with the request's harm category marked. And the word and phrase list the safety screen starts
// from (`safety-lexicon.txt`): what a data team would write for the task's harm categories, the
// held-out requests' words included only where they share a word with a training request.

/// `{"id", "prompt", "response", "is_safe", "category": {harm category: bool}, "tags"}`.
public struct LabelledResponseRecord: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: String
    public var response: String
    public var isSafe: Bool
    public var category: [String: Bool]
    public var tags: [String]

    enum CodingKeys: String, CodingKey {
        case id, prompt, response, category, tags
        case isSafe = "is_safe"
    }
}

extension Annotations {
    func labelledResponses(on specs: [PromptSpec], count: Int, rng: inout TaskRandom) -> [LabelledResponseRecord] {
        let safety = specs.filter(\.kind.isSafety)
        let specs = safety.isEmpty ? specs : safety
        guard !specs.isEmpty else { return [] }
        var records: [LabelledResponseRecord] = []
        for i in 0..<count {
            let spec = rng.pick(specs)
            let pair = Candidate.distinctSet(spec, count: 2, settings.candidates, rng: &rng).candidates
            for (j, candidate) in pair.enumerated() {
                var category = Dictionary(uniqueKeysWithValues: HarmCategory.allCases.map { ($0.rawValue, false) })
                if !candidate.safe, case .harmful(let action) = spec.task { category[action.category.rawValue] = true }
                records.append(LabelledResponseRecord(id: recordId("labelled", 2 * i + j), prompt: spec.text, response: candidate.text,
                                                      isSafe: candidate.safe, category: category, tags: spec.tags))
            }
        }
        return records
    }
}

extension SafetyCatalog {
    /// The safety screen's lexicon for this world, one entry a line, `#` for comments.
    public static let lexicon: [String] = [
        "hurt", "beat up", "fight", "ambush", "injure", "poison", "break into", "password", "hack",
        "steal", "shoplift", "rob", "lock", "forge", "cheat", "fake", "kill", "attack", "weapon",
    ]

    public static var lexiconFile: String {
        "# Safety screen lexicon for the built-in task (plumb screen --lexicon): words and phrases, matched\n"
            + "# case-insensitively at word boundaries in responses.\n" + lexicon.joined(separator: "\n") + "\n"
    }
}
