import Foundation
import PlumbStore

/// PKU-SafeRLHF: one row gives a helpfulness comparison (`better_response_id`) and a safety
/// comparison (`safer_response_id`), each with both responses' safety labels; the prompt is
/// tagged `safety`.
enum PKUSafeRLHFImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt = Prompt(messages: [.user(try fields.string("prompt"))], tags: ["safety"])
        let responses = [try fields.string("response_0"), try fields.string("response_1")]
        let safe = [try fields.bool("is_response_0_safe"), try fields.bool("is_response_1_safe")]
        func comparison(_ key: String, _ dimension: PreferenceDimension) throws -> Record {
            let better = try fields.int(key)
            guard better == 0 || better == 1 else {
                throw RowProblem(.invalidValue, field: key, "field '\(key)' is \(better), expected 0 or 1")
            }
            return .comparison(Comparison(
                id: context.id(dimension.rawValue), prompt: prompt,
                chosen: responses[better], rejected: responses[1 - better], dimension: dimension,
                chosenSafe: safe[better], rejectedSafe: safe[1 - better], source: context.source))
        }
        return [try comparison("better_response_id", .helpfulness), try comparison("safer_response_id", .safety)]
    }
}
