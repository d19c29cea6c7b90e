import Foundation
import PlumbStore

/// Anthropic HH-RLHF: `chosen` and `rejected` are whole transcripts,
/// "\n\nHuman: ...\n\nAssistant: ...". The shared turns become the prompt, the two last assistant
/// turns the responses. Pairs whose transcripts differ before the last turn are quarantined as
/// `conversations_diverge`: which earlier turn the preference is about is unknown, so no honest
/// comparison can be made from them.
enum HHRLHFImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let chosen = try parse(try fields.string("chosen"), field: "chosen")
        let rejected = try parse(try fields.string("rejected"), field: "rejected")
        let split = try FieldParsing.splitImplicit(chosen: chosen, rejected: rejected)
        let comparison = Comparison(
            id: context.id(), prompt: Prompt(messages: split.prompt), chosen: split.chosen, rejected: split.rejected,
            dimension: context.options.defaultDimension, source: context.source)
        return [.comparison(comparison)]
    }

    private static let markers: [(String, Role)] = [("\n\nHuman:", .user), ("\n\nAssistant:", .assistant)]

    /// Splits a transcript into turns at "\n\nHuman:" and "\n\nAssistant:" markers.
    static func parse(_ transcript: String, field: String) throws -> [Message] {
        var text = Substring(transcript)
        if !text.hasPrefix("\n\n") { text = "\n\n" + text }  // a few rows start with "Human:" directly
        var messages: [Message] = []
        var current: (role: Role, start: Substring.Index)?
        var index = text.startIndex
        while index < text.endIndex {
            if let (marker, role) = markers.first(where: { text[index...].hasPrefix($0.0) }) {
                if let open = current { messages.append(Message(role: open.role, content: trimmed(text[open.start..<index]))) }
                index = text.index(index, offsetBy: marker.count)
                current = (role, index)
            } else {
                index = text.index(after: index)
            }
        }
        guard let open = current else {
            throw RowProblem(.malformedTranscript, field: field, "no \"Human:\" / \"Assistant:\" turns in '\(field)'")
        }
        messages.append(Message(role: open.role, content: trimmed(text[open.start...])))
        for (turn, message) in messages.enumerated() where message.role != (turn % 2 == 0 ? .user : .assistant) {
            throw RowProblem(.malformedTranscript, field: field, "turn \(turn + 1) of '\(field)' is \(message.role.rawValue): turns must alternate Human/Assistant")
        }
        return messages
    }

    private static func trimmed(_ text: Substring) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// PKU-SafeRLHF: one row gives a helpfulness comparison (`better_response_id`) and a safety
/// comparison (`safer_response_id`), each with both responses' safety labels; the prompt is
/// tagged `safety`.
enum PKUSafeRLHFImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt = Prompt(messages: [.user(try fields.string("prompt"))], tags: ["safety"])
        let responses = [try fields.string("response_0"), try fields.string("response_1")]
        let safe = [try fields.bool("is_response_0_safe"), try fields.bool("is_response_1_safe")]
        func comparison(_ key: String, _ dimension: Dimension) throws -> Record {
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

/// UltraFeedback. Raw rows (`instruction`, `completions` with ratings) become a ranking by the
/// completions' `fine-grained_score` (else `overall_score`), ties allowed. Binarized rows (`chosen`
/// and `rejected` conversations with `score_chosen`/`score_rejected`) become a comparison whose
/// margin is the score difference.
enum UltraFeedbackImporter {
    static func convertRaw(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt = Prompt(messages: [.user(try fields.string("instruction"))])
        var responses: [String] = []
        var scores: [Double] = []
        for (index, item) in try fields.array("completions").enumerated() {
            let completion = try RowFields(item)
            let field = "completions[\(index)]"
            do {
                responses.append(try completion.string("response"))
                scores.append(try completion.optionalNumber("fine-grained_score") ?? completion.number("overall_score"))
            } catch var problem as RowProblem {
                problem.field = "\(field).\(problem.field ?? "")"
                throw problem
            }
        }
        let ranking = Ranking(id: context.id(), prompt: prompt, responses: responses, ranks: denseRanks(scores: scores),
                              dimension: context.options.defaultDimension, source: context.source)
        return [.ranking(ranking)]
    }

    static func convertBinarized(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let split = try FieldParsing.splitImplicit(chosen: try fields.messages("chosen"), rejected: try fields.messages("rejected"))
        let margin = try fields.number("score_chosen") - fields.number("score_rejected")
        let comparison = Comparison(
            id: context.id(), prompt: Prompt(id: try fields.optionalText("prompt_id"), messages: split.prompt),
            chosen: split.chosen, rejected: split.rejected, dimension: context.options.defaultDimension,
            strength: .margin(margin), source: context.source)
        return [.comparison(comparison)]
    }

    /// Rank 1 for the highest score; equal scores share a rank; ranks are consecutive.
    static func denseRanks(scores: [Double]) -> [Int] {
        let distinct = Array(Set(scores)).sorted(by: >)
        return scores.map { score in distinct.firstIndex(of: score)! + 1 }
    }
}
