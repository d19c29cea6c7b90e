// Which responses of preference comparisons a language-model stage trains on. SFT on the chosen
// responses is how the DPO paper builds its reference model for HH-RLHF ("Preferred-FT"); pretraining
// on both responses uses every sentence of a preference set as raw language.
import PlumbData

public enum ComparisonResponses: String, Codable, CaseIterable, Sendable {
    /// (prompt, chosen) per comparison.
    case chosen
    /// (prompt, chosen) and (prompt, rejected) per comparison.
    case both

    /// Dialogues from comparisons; a prompt whose chosen response repeats is used once per response text.
    public func dialogues(_ comparisons: [Comparison]) -> [(prompt: [Message], response: String)] {
        var seen = Set<String>()
        var out: [(prompt: [Message], response: String)] = []
        for c in comparisons {
            let responses = self == .chosen ? [(c.chosenPrompt, c.chosen)] : [(c.chosenPrompt, c.chosen), (c.rejectedPrompt, c.rejected)]
            for (prompt, response) in responses where seen.insert(Prompt.contentID(prompt) + "\u{0}" + response).inserted {
                out.append((prompt, response))
            }
        }
        return out
    }
}
