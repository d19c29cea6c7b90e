import Foundation
import PlumbStore

/// Anthropic HH-RLHF: `chosen` and `rejected` are whole transcripts,
/// "\n\nHuman: ...\n\nAssistant: ...". Each transcript is cut at its last "\n\nAssistant:"; the
/// text before it must be the same in both (else the row is quarantined as `conversations_diverge`:
/// which earlier turn the preference is about is unknown, so no honest comparison can be made) and
/// becomes the prompt; the text after it is the response. A few real rows hold two consecutive
/// turns of one role; they are merged into one turn, joined by a blank line.
enum HHRLHFImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let (chosenPrompt, chosen) = try splitLastTurn(try fields.string("chosen"), field: "chosen")
        let (rejectedPrompt, rejected) = try splitLastTurn(try fields.string("rejected"), field: "rejected")
        guard chosenPrompt == rejectedPrompt else {
            throw RowProblem(.conversationsDiverge, "chosen and rejected transcripts differ before the last assistant turn")
        }
        let prompt = try parse(chosenPrompt, field: "chosen")
        guard prompt.last?.role == .user else {
            throw RowProblem(.malformedTranscript, field: "chosen", "the turn before the last assistant turn is not a Human turn")
        }
        let comparison = Comparison(
            id: context.id(), prompt: Prompt(messages: prompt), chosen: chosen, rejected: rejected,
            dimension: context.options.defaultDimension, source: context.source)
        return [.comparison(comparison)]
    }

    /// The transcript before its last "\n\nAssistant:" and the (trimmed) text after it.
    static func splitLastTurn(_ transcript: String, field: String) throws -> (String, String) {
        guard let marker = transcript.range(of: "\n\nAssistant:", options: .backwards) else {
            throw RowProblem(.malformedTranscript, field: field, "no \"Assistant:\" turn in '\(field)'")
        }
        return (String(transcript[..<marker.lowerBound]), trimmed(transcript[marker.upperBound...]))
    }

    private static let markers: [(String, Role)] = [("\n\nHuman:", .user), ("\n\nAssistant:", .assistant)]

    /// Splits a transcript into turns at "\n\nHuman:" and "\n\nAssistant:" markers.
    static func parse(_ transcript: String, field: String) throws -> [Message] {
        let text = transcript.hasPrefix("\n\n") ? transcript : "\n\n" + transcript  // a few rows start with "Human:"
        var messages: [Message] = []
        var current: (role: Role, start: String.Index)?
        var cursor = text.startIndex
        while true {
            let found = markers.compactMap { marker, role in
                text.range(of: marker, range: cursor..<text.endIndex).map { ($0, role) }
            }.min { $0.0.lowerBound < $1.0.lowerBound }
            guard let (range, role) = found else { break }
            if let open = current { messages.append(Message(role: open.role, content: trimmed(text[open.start..<range.lowerBound]))) }
            current = (role, range.upperBound)
            cursor = range.upperBound
        }
        guard let open = current else {
            throw RowProblem(.malformedTranscript, field: field, "no \"Human:\" / \"Assistant:\" turns in '\(field)'")
        }
        messages.append(Message(role: open.role, content: trimmed(text[open.start...])))
        var merged: [Message] = []
        for message in messages {
            if let last = merged.last, last.role == message.role {
                merged[merged.count - 1].content = last.content + "\n\n" + message.content
            } else {
                merged.append(message)
            }
        }
        guard merged.first?.role == .user else {
            throw RowProblem(.malformedTranscript, field: field, "'\(field)' does not start with a Human turn")
        }
        return merged
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
