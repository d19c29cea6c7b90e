import Foundation

/// One response with a safety label and no pair (BeaverTails-style data): what the safety gate's
/// precision, recall and AUROC are measured on, and where a prompt with both a safe and an unsafe
/// response gives a safety comparison (`LabelledPairs`).
public struct LabelledResponse: Codable, Equatable, Sendable {
    public var schema = RecordKind.labelledResponse.schema
    public var id: String
    public var prompt: Prompt
    public var response: String
    public var safe: Bool
    /// Harm categories the source marks as present (sorted); empty for most safe responses.
    public var categories: [String]
    public var annotator: String?
    public var source: SourceRef

    public init(id: String, prompt: Prompt, response: String, safe: Bool, categories: [String] = [],
                annotator: String? = nil, source: SourceRef) {
        self.id = id
        self.prompt = prompt
        self.response = response
        self.safe = safe
        self.categories = categories
        self.annotator = annotator
        self.source = source
    }
}

/// Safety comparisons from labelled responses: for each prompt with both safe and unsafe responses,
/// every (safe, unsafe) pair, safe chosen. No strength (the labels say which is safe, not by how much).
public enum LabelledPairs {
    public static func comparisons(from responses: [LabelledResponse]) -> [Comparison] {
        var order: [String] = []
        var byPrompt: [String: [LabelledResponse]] = [:]
        for response in responses {
            let key = Validator.normalise(response.prompt.text)
            if byPrompt[key] == nil { order.append(key) }
            byPrompt[key, default: []].append(response)
        }
        var out: [Comparison] = []
        for key in order {
            let group = byPrompt[key]!
            for safe in group where safe.safe {
                for unsafe in group where !unsafe.safe {
                    out.append(Comparison(id: "\(safe.id)>\(unsafe.id)", prompt: safe.prompt, chosen: safe.response,
                                          rejected: unsafe.response, dimension: .safety, chosenSafe: true, rejectedSafe: false,
                                          source: safe.source))
                }
            }
        }
        return out
    }
}
