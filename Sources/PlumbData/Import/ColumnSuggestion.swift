import Foundation

/// The `--columns` line offered when a layout is not recognised: each canonical field mapped to the
/// seen field whose name looks most like it (`question` -> prompt, `good_answer` -> chosen, ...),
/// else to a seen field no hint claimed, else to a placeholder naming the field to pick. Pairs are offered when two fields look like
/// chosen and rejected, unpaired feedback when one looks like a response and one like a label.
enum ColumnSuggestion {
    private static let hints: [(field: String, words: [String])] = [
        ("prompt", ["prompt", "question", "instruction", "query", "input", "context", "post", "title", "user"]),
        ("chosen", ["chosen", "better", "preferred", "good", "win", "positive", "accepted", "pos"]),
        ("rejected", ["rejected", "worse", "dispreferred", "bad", "los", "negative", "neg"]),
        ("response", ["response", "answer", "output", "completion", "reply", "generation", "assistant"]),
        ("label", ["label", "thumb", "feedback", "vote", "rating", "desirable"]),
    ]

    static func suggest(_ keys: Set<String>) -> String {
        var used = Set<String>()
        func guess(_ field: String) -> String? {
            let words = hints.first { $0.field == field }!.words
            let match = keys.sorted().first { key in !used.contains(key) && words.contains { key.lowercased().contains($0) } }
            if let match { used.insert(match) }
            return match
        }
        let prompt = guess("prompt")
        let chosen = guess("chosen"), rejected = guess("rejected")
        let fields: [(String, String?)]
        if chosen != nil || rejected != nil {
            fields = [("prompt", prompt), ("chosen", chosen), ("rejected", rejected)]
        } else {
            let response = guess("response"), label = guess("label")
            fields = label != nil ? [("prompt", prompt), ("response", response), ("label", label)]
                : [("prompt", prompt), ("chosen", nil), ("rejected", nil)]
        }
        // Fields no name hint matched take the remaining seen fields in name order.
        var rest = keys.subtracting(used).sorted()[...]
        let filled = fields.map { field, column in (field, column ?? rest.popFirst()) }
        return "--columns " + filled.map { "\($0.0)=\($0.1 ?? "<\($0.0) field>")" }.joined(separator: ",")
    }
}
