import Foundation
import PlumbStore

/// Arena battles: two models answer one user, the user votes.
/// - LMSYS JSON (`lmsys/chatbot_arena_conversations`, MT-bench judgments): `model_a`, `model_b`,
///   `winner` ("model_a", "model_b", "tie", "tie (bothbad)"), `conversation_a` / `conversation_b`
///   as [{role, content}], optional `question_id`, `judge`.
/// - The Kaggle competition's CSV (`lmsys-chatbot-arena` train.csv): `id`, `model_a`, `model_b`,
///   `prompt`, `response_a`, `response_b`, each a JSON-encoded list of turns (entries may be
///   `null`), and one-hot `winner_model_a` / `winner_model_b` / `winner_tie`.
/// The two sides' conversations share the user turns but not the answers, so a multi-turn battle
/// becomes a comparison whose prompt is the first user turn, each side's earlier turns in
/// `chosen_history` / `rejected_history`, and the final answers as chosen and rejected. Ties are
/// tie records (`details.tie`), which the importer sets aside unless asked to keep them.
/// `turn` is read as the number of turns judged (Chatbot Arena: the conversation's length; MT-Bench
/// human judgments: 1 or 2): the conversations are compared up to each side's N-th answer, so a
/// judgement of MT-Bench's turn 1 is about the first answers alone (its id gets `:turn1`).
enum ArenaImporter {
    enum Outcome: Equatable {
        case a, b
        case tie(TieKind)
    }

    static let oneHot = ["winner_model_a", "winner_model_b", "winner_tie"]

    static func columns(_ keys: Set<String>) -> [String: String] {
        var columns = ColumnNames.resolve([("id", ColumnNames.id), ("annotator", ["judge"])], in: keys)
        for key in ["model_a", "model_b", "conversation_a", "conversation_b", "response_a", "response_b", "winner", "turn"] + oneHot
        where keys.contains(key) { columns[key] = key }
        if keys.contains("prompt") { columns["prompt"] = "prompt" }
        return columns
    }

    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let outcome = try self.outcome(fields)
        var (a, b) = try conversations(fields)
        var turnSuffix = ""
        if fields.has("turn") {
            let turn = try fields.int("turn")
            let whole = (a.count, b.count)
            (a, b) = (try upTo(turn: turn, a, field: "conversation_a"), try upTo(turn: turn, b, field: "conversation_b"))
            if (a.count, b.count) != whole { turnSuffix = ":turn\(turn)" }
        }
        let split = try ConversationSplit.split(a, b, names: ("conversation_a", "conversation_b"))
        let modelA = try fields.optionalText("model_a"), modelB = try fields.optionalText("model_b")
        let aWins = outcome != .b
        var details = ComparisonDetails(
            chosenHistory: aWins ? split.historyA : split.historyB, rejectedHistory: aWins ? split.historyB : split.historyA,
            chosenModel: aWins ? modelA : modelB, rejectedModel: aWins ? modelB : modelA)
        if case .tie(let kind) = outcome { details.tie = kind }
        var comparison = Comparison(
            id: try (fields.optionalText("id") ?? fields.optionalText("question_id")).flatMap { $0.isEmpty ? nil : $0 }
                .map { $0 + turnSuffix } ?? context.id(),
            prompt: Prompt(messages: split.prompt), chosen: aWins ? split.finalA : split.finalB,
            rejected: aWins ? split.finalB : split.finalA, dimension: context.options.defaultDimension,
            annotator: try fields.optionalText("judge"), source: context.source)
        comparison.details = details
        return [.comparison(comparison)]
    }

    /// The conversation up to and including its `turn`-th assistant answer.
    static func upTo(turn: Int, _ messages: [Message], field: String) throws -> [Message] {
        var answers = 0
        for (index, message) in messages.enumerated() where message.role == .assistant {
            answers += 1
            if answers == turn { return Array(messages[...index]) }
        }
        throw RowProblem(.invalidValue, field: "turn", "'turn' is \(turn) but '\(field)' has \(answers) answer(s)")
    }

    /// The vote: `winner` by name, else the one-hot columns (NaN or empty cells count as absent).
    static func outcome(_ fields: RowFields) throws -> Outcome {
        if let winner = try fields.optionalText("winner"), !CellText.isMissing(winner) {
            switch winner.trimmingCharacters(in: .whitespaces).lowercased() {
            case "model_a", "a": return .a
            case "model_b", "b": return .b
            case "tie": return .tie(.tie)
            case "tie (bothbad)", "tie(bothbad)", "bothbad", "both_bad": return .tie(.bothBad)
            default:
                throw RowProblem(.invalidValue, field: "winner", "field 'winner' is '\(winner)', expected model_a, model_b, tie or tie (bothbad)")
            }
        }
        var values: [Double?] = []
        for key in oneHot {
            if let text = try fields.optionalText(key), !CellText.isMissing(text) {
                values.append(try fields.number(key))
            } else {
                values.append(nil)
            }
        }
        guard values.contains(where: { $0 != nil }) else {
            throw RowProblem(.missingField, field: "winner", "no 'winner' and no one-hot winner_model_a / winner_model_b / winner_tie values")
        }
        let ones = values.indices.filter { values[$0] == 1 }
        guard ones.count == 1, values.allSatisfy({ $0 == nil || $0 == 0 || $0 == 1 }) else {
            let shown = zip(oneHot, values).map { "\($0)=\($1.map { String($0) } ?? "missing")" }.joined(separator: ", ")
            throw RowProblem(.invalidValue, field: "winner_model_a", "one-hot winner columns should hold exactly one 1, found \(shown)")
        }
        return [Outcome.a, .b, .tie(.tie)][ones[0]]
    }

    /// Both sides as message lists: from `conversation_a/b`, or by interleaving `prompt` with
    /// `response_a/b` turn by turn.
    static func conversations(_ fields: RowFields) throws -> ([Message], [Message]) {
        if fields.has("conversation_a") || fields.has("conversation_b") {
            return (try fields.messages("conversation_a"), try fields.messages("conversation_b"))
        }
        let prompts = try CellText.turns(fields, "prompt")
        func side(_ key: String) throws -> [Message] {
            let answers = try CellText.turns(fields, key)
            guard answers.count == prompts.count else {
                throw RowProblem(.malformedTranscript, field: key, "'prompt' has \(prompts.count) turns but '\(key)' has \(answers.count)")
            }
            var messages: [Message] = []
            for (index, (user, answer)) in zip(prompts, answers).enumerated() {
                guard let user else { throw RowProblem(.missingField, field: "prompt[\(index)]", "turn \(index + 1) of 'prompt' is null") }
                guard let answer else {
                    throw RowProblem(.missingField, field: "\(key)[\(index)]", "turn \(index + 1) of '\(key)' is null (the model gave no answer)")
                }
                messages += [.user(user), .assistant(answer)]
            }
            return messages
        }
        return (try side("response_a"), try side("response_b"))
    }
}
