import Foundation
import PlumbStore

/// Stanford SHP: `history` is the post, `human_ref_A`/`human_ref_B` the comments, `labels` is 1
/// when A is preferred. The score ratio (preferred over dispreferred) maps to a Llama 2 level:
/// < 1.5 negligibly, < 2 slightly, < 4 better, otherwise significantly better.
enum SHPImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let a = try fields.string("human_ref_A"), b = try fields.string("human_ref_B")
        let label = try fields.int("labels")
        guard label == 0 || label == 1 else { throw RowProblem(.invalidValue, field: "labels", "field 'labels' is \(label), expected 0 or 1") }
        var ratio = try fields.optionalNumber("score_ratio")
        if ratio == nil, let scoreA = try fields.optionalNumber("score_A"), let scoreB = try fields.optionalNumber("score_B") {
            ratio = label == 1 ? scoreA / max(scoreB, 1) : scoreB / max(scoreA, 1)
        }
        let comparison = Comparison(
            id: try fields.optionalText("c_root_id_A").map { "shp:\($0)" } ?? context.id(),
            prompt: Prompt(messages: [.user(try fields.string("history"))]),
            chosen: label == 1 ? a : b, rejected: label == 1 ? b : a,
            dimension: context.options.defaultDimension, strength: ratio.map { .level(level(scoreRatio: $0)) },
            source: context.source)
        return [.comparison(comparison)]
    }

    static func level(scoreRatio ratio: Double) -> PreferenceLevel {
        if ratio < 1.5 { return .negligiblyBetter }
        if ratio < 2 { return .slightlyBetter }
        if ratio < 4 { return .better }
        return .significantlyBetter
    }
}

/// Stack-Exchange-paired: `question`, `response_j` (preferred), `response_k`.
enum StackExchangePairedImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let comparison = Comparison(
            id: context.id(), prompt: Prompt(messages: [.user(try fields.string("question"))]),
            chosen: try fields.string("response_j"), rejected: try fields.string("response_k"),
            dimension: context.options.defaultDimension, source: context.source)
        return [.comparison(comparison)]
    }
}
