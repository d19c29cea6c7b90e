import Foundation
import PlumbStore

/// PKU-SafeRLHF: one row gives a helpfulness comparison (`better_response_id`) and a safety
/// comparison (`safer_response_id`), each with both responses' safety labels; the prompt is
/// tagged `safety`. The two ids may disagree (the more helpful answer is the less safe one).
/// The current release adds per response `response_N_severity_level` (0 safe ... 3 severe) and
/// `response_N_harm_category` (19 categories, keys with spaces, -> bool). The severities set the
/// safety comparison's strength from the gap `severity(rejected) - severity(chosen)`:
///
/// | gap | strength |
/// |---|---|
/// | >= 3 | significantly_better |
/// | 2 | better |
/// | 1 | slightly_better |
/// | <= 0 (equally severe, or the safer-judged one rated more severe) | negligibly_better |
///
/// Both comparisons keep the severities and the categories marked present (`details`).
enum PKUSafeRLHFImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt = Prompt(messages: [.user(try fields.string("prompt"))], tags: ["safety"])
        let responses = [try fields.string("response_0"), try fields.string("response_1")]
        let safe = [try fields.bool("is_response_0_safe"), try fields.bool("is_response_1_safe")]
        let severity = try [0, 1].map { try self.severity(fields, $0) }
        let harm = try [0, 1].map { try self.harm(fields, $0) }
        func comparison(_ key: String, _ dimension: PreferenceDimension) throws -> Record {
            let better = try fields.int(key)
            guard better == 0 || better == 1 else {
                throw RowProblem(.invalidValue, field: key, "field '\(key)' is \(better), expected 0 or 1")
            }
            var strength: PreferenceStrength?
            if dimension == .safety, let chosen = severity[better], let rejected = severity[1 - better] {
                strength = .level(safetyLevel(severityGap: rejected - chosen))
            }
            var comparison = Comparison(
                id: context.id(dimension.rawValue), prompt: prompt,
                chosen: responses[better], rejected: responses[1 - better], dimension: dimension, strength: strength,
                chosenSafe: safe[better], rejectedSafe: safe[1 - better], source: context.source)
            comparison.details.chosenSeverity = severity[better]
            comparison.details.rejectedSeverity = severity[1 - better]
            comparison.details.chosenHarm = harm[better]
            comparison.details.rejectedHarm = harm[1 - better]
            return .comparison(comparison)
        }
        return [try comparison("better_response_id", .helpfulness), try comparison("safer_response_id", .safety)]
    }

    /// The table above.
    static func safetyLevel(severityGap gap: Int) -> PreferenceLevel {
        switch gap {
        case 3...: return .significantlyBetter
        case 2: return .better
        case 1: return .slightlyBetter
        default: return .negligiblyBetter
        }
    }

    private static func severity(_ fields: RowFields, _ index: Int) throws -> Int? {
        let key = "response_\(index)_severity_level"
        guard fields.has(key) else { return nil }
        let level = try fields.int(key)
        guard (0...3).contains(level) else {
            throw RowProblem(.outOfScale, field: key, "field '\(key)' is \(level), outside the severity scale 0-3")
        }
        return level
    }

    private static func harm(_ fields: RowFields, _ index: Int) throws -> [String]? {
        let key = "response_\(index)_harm_category"
        guard fields.has(key) else { return nil }
        let map = try fields.objectField(key).object
        return try map.keys.sorted().filter { name in
            guard case .bool(let flag) = map[name]! else {
                throw RowProblem(.wrongType, field: "\(key).\(name)", "harm category '\(name)' should be a boolean, found \(map[name]!.typeName)")
            }
            return flag
        }
    }
}
