import Foundation
import PlumbStore

/// Unpaired feedback, one judged response a row (`feedback/1`):
/// - KTO-style (TRL's unpaired preference format): `prompt`, `completion`, `label` true/false;
///   prompt and completion may be strings or message lists (turbo-alignment's `context` /
///   `answer` / `is_desirable` too);
/// - thumbs logs: a prompt, a response and a `thumbs` (or `thumb`, `feedback`, `vote`, `rating`)
///   value: `up`/`down`, `thumbs_up`/`thumbs_down`, `+1`/`-1`, a thumb emoji, `good`/`bad`, ...
/// Values (`FieldParsing.feedbackLabel`): true, a positive number or a yes-like name is desirable;
/// false, 0, a negative number or a no-like name is undesirable; anything else is `invalid_value`.
enum FeedbackImporter {
    /// Label columns, KTO's first; the origin is `label` for these two, `thumbs` for the rest.
    static let labelNames = ["label", "desirable", "is_desirable", "thumbs", "thumb", "feedback", "vote", "rating", "kto_tag"]

    static func columns(_ keys: Set<String>) -> [String: String] {
        ColumnNames.resolve([("prompt", ColumnNames.prompt), ("system", ColumnNames.system), ("response", ColumnNames.response),
                             ("label", labelNames), ("dimension", ["dimension"]), ("id", ColumnNames.id),
                             ("annotator", ["annotator", "user_id", "annotator_id"]), ("tags", ["tags"])], in: keys)
    }

    static func convert(_ fields: RowFields, columns: [String: String], _ context: RowContext) throws -> [Record] {
        let origin: FeedbackOrigin = ["label", "desirable", "is_desirable", "kto_tag"].contains(columns["label"] ?? "") ? .label : .thumbs
        return try ColumnNames.namingInputColumns(columns) {
            let row = RowFields(renaming: fields, columns)
            var messages = try FieldParsing.prompt(row, key: "prompt")
            if let system = try row.optionalString("system"), !system.isEmpty { messages.insert(.system(system), at: 0) }
            let feedback = Feedback(
                id: try row.optionalText("id").flatMap { $0.isEmpty ? nil : $0 } ?? context.id(),
                prompt: Prompt(messages: messages, tags: try FieldParsing.tags(row)),
                response: try FieldParsing.response(row, key: "response"),
                desirable: try FieldParsing.feedbackLabel(row, "label"),
                dimension: try FieldParsing.dimension(row, default: context.options.defaultDimension), origin: origin,
                annotator: try row.optionalText("annotator"), source: context.source)
            return [.feedback(feedback)]
        }
    }
}

extension FieldParsing {
    static let yesNames: Set<String> = ["true", "yes", "y", "up", "thumbs_up", "thumbsup", "thumbs up", "👍", "good", "positive",
                                        "like", "liked", "desirable", "accept", "accepted", "safe", "t"]
    static let noNames: Set<String> = ["false", "no", "n", "down", "thumbs_down", "thumbsdown", "thumbs down", "👎", "bad",
                                       "negative", "dislike", "disliked", "undesirable", "reject", "rejected", "unsafe", "f"]

    /// A yes/no judgement written as a boolean, a number (> 0 yes; 0 or < 0 no) or a name.
    static func feedbackLabel(_ row: RowFields, _ key: String) throws -> Bool {
        switch try row.value(key) {
        case .bool(let flag): return flag
        case .number(let number): return number > 0
        case .string(let text):
            let name = text.trimmingCharacters(in: .whitespaces).lowercased()
            if let number = Double(name) { return number > 0 }
            if yesNames.contains(name) { return true }
            if noNames.contains(name) { return false }
            if CellText.isMissing(name) { throw RowProblem(.missingField, field: key, "the label '\(key)' is empty or NaN") }
            throw RowProblem(.invalidValue, field: key, "field '\(key)' is '\(text.prefix(40))', expected true/false, up/down, +1/-1 or 1/0")
        case let other:
            throw RowProblem(.wrongType, field: key, "field '\(key)' should be a boolean, a number or a name, found \(other.typeName)")
        }
    }

    /// A safety label: a boolean, 1/0 (as a number or text), true/false, yes/no or safe/unsafe.
    static func safetyLabel(_ row: RowFields, _ key: String) throws -> Bool {
        switch try row.value(key) {
        case .bool(let flag): return flag
        case .number(let number) where number == 0 || number == 1: return number == 1
        case .string(let text):
            let name = text.trimmingCharacters(in: .whitespaces).lowercased()
            if ["true", "1", "1.0", "yes", "safe", "t", "y"].contains(name) { return true }
            if ["false", "0", "0.0", "no", "unsafe", "f", "n"].contains(name) { return false }
            throw RowProblem(.invalidValue, field: key, "field '\(key)' is '\(text.prefix(40))', expected true/false, 1/0, yes/no or safe/unsafe")
        case .number(let number):
            throw RowProblem(.invalidValue, field: key, "field '\(key)' is \(number), expected 1 (safe) or 0 (unsafe)")
        case let other:
            throw RowProblem(.wrongType, field: key, "field '\(key)' should be a boolean, 1/0 or safe/unsafe, found \(other.typeName)")
        }
    }
}
