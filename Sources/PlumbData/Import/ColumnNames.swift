import Foundation

/// The names preference, safety and demonstration files give their columns, per canonical field,
/// in order of preference. Detection and the importers that read named columns resolve fields
/// through this table, and the import report says which column became which field.
enum ColumnNames {
    static let prompt = ["prompt", "question", "instruction", "query", "input", "context", "history"]
    static let system = ["system", "system_prompt", "system_message"]
    static let chosen = ["chosen", "response_j", "preferred", "chosen_response"]
    static let rejected = ["rejected", "response_k", "dispreferred", "rejected_response"]
    static let response = ["response", "output", "answer", "completion"]
    static let responseA = ["answer_a", "response_a", "response1", "response_1", "output_1", "completion_a"]
    static let responseB = ["answer_b", "response_b", "response2", "response_2", "output_2", "completion_b"]
    static let safe = ["is_safe", "safe", "is_response_safe"]
    static let categories = ["category", "categories", "harm_category", "harm_categories"]
    static let overall = ["overall_preference", "preference", "overall"]
    static let justification = ["justification", "rationale", "explanation"]
    static let id = ["id", "question_id", "prompt_id"]

    /// What the formats with fixed field names read, for the import report.
    static func fixed(_ format: ImportFormat) -> [String: String] {
        switch format {
        case .hhRLHF: return ["prompt": "(shared start of chosen and rejected)", "chosen": "chosen", "rejected": "rejected"]
        case .pkuSafeRLHF:
            return ["prompt": "prompt", "responses": "response_0, response_1", "helpfulness": "better_response_id",
                    "safety": "safer_response_id", "safe": "is_response_0_safe, is_response_1_safe"]
        case .ultraFeedback: return ["prompt": "instruction", "responses": "completions[].response", "scores": "completions[].fine-grained_score"]
        case .ultraFeedbackBinarized: return ["prompt": "(shared start of chosen and rejected)", "chosen": "chosen", "rejected": "rejected",
                                             "margin": "score_chosen - score_rejected"]
        case .shp: return ["prompt": "history", "responses": "human_ref_A, human_ref_B", "preference": "labels", "strength": "score_ratio"]
        case .stackExchangePaired: return ["prompt": "question", "chosen": "response_j", "rejected": "response_k"]
        case .alpaca: return ["prompt": "instruction + input", "response": "output", "system": "system"]
        case .stackExchange: return ["prompt": "question (HTML)", "responses": "answers[].text (HTML)", "scores": "answers[].pm_score",
                                     "labels": "answers[].selected"]
        case .nectar: return ["prompt": "prompt (HH transcript)", "responses": "answers[].answer", "ranks": "answers[].rank"]
        case .pandaLM: return ["prompt": "instruction + input", "responses": "response1, response2", "votes": "annotator1..N"]
        case .autoJ: return ["prompt": "prompt", "responses": "response 1, response 2", "vote": "label", "tags": "scenario"]
        default: return [:]
        }
    }

    /// The first of `names` that `keys` holds, if any.
    static func first(_ names: [String], in keys: Set<String>) -> String? {
        names.first(where: keys.contains)
    }

    /// `<aspect>_preference` columns other than the overall one, keyed by aspect name.
    static func aspects(in keys: Set<String>) -> [String: String] {
        var out: [String: String] = [:]
        for key in keys where key.hasSuffix("_preference") && !overall.contains(key) {
            out[String(key.dropLast("_preference".count))] = key
        }
        return out
    }

    /// Resolves fields to columns: each field in `fields` to the first of its names present.
    static func resolve(_ fields: [(String, [String])], in keys: Set<String>) -> [String: String] {
        var out: [String: String] = [:]
        for (field, names) in fields { if let column = first(names, in: keys) { out[field] = column } }
        return out
    }

    /// Runs a conversion over renamed fields and puts the input's column names back into any
    /// problem it raises (`prompt` -> `question`, `prompt[0]` -> `question[0]`).
    static func namingInputColumns<T>(_ columns: [String: String], _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var problem as RowProblem {
            if let field = problem.field {
                for (canonical, column) in columns where canonical != column
                    && (field == canonical || field.hasPrefix(canonical + "[") || field.hasPrefix(canonical + ".")) {
                    problem.field = column + field.dropFirst(canonical.count)
                    problem.detail = problem.detail.replacingOccurrences(of: "'\(canonical)", with: "'\(column)")
                    break
                }
            }
            throw problem
        }
    }
}
