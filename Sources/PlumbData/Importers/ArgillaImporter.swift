import Foundation
import PlumbStore

/// Argilla records with ranking or rating questions, in Argilla's documented shapes:
/// - v1 `FeedbackRecord` dicts: `fields`, `responses: [{user_id, status, values: {question: {value}}}]`;
/// - v2 `Record.to_dict()`: `fields`, `responses: {question: [{value, user_id, status}]}`;
/// - v1 Hugging Face export (`format_as("datasets")`): fields as columns, each question a column
///   of `[{user_id, value, status}]` (ranking values `{rank: [...], value: [...]}`).
/// A ranking value is a list of `{value, rank}`, a list of option names in order, or `{rank, value}`
/// lists. A rating question whose name contains a response field's name rates that response;
/// ratings over two or more responses give a ranking (higher rating = better, equal = tie).
/// Only submitted responses count (status `submitted` or absent). The prompt is the field named
/// `prompt`, `instruction`, `question`, `input` or `query`, else the one field no question ranks.
enum ArgillaImporter {
    static let promptKeys = ["prompt", "instruction", "question", "input", "query"]

    /// One annotator's answer to one question.
    struct Answer {
        var question: String
        var user: String?
        var value: JSONValue
    }

    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let (texts, answers) = try shape(fields)
        guard !answers.isEmpty else { throw RowProblem(.noAnnotation, field: "responses", "the record has no submitted responses") }
        var records: [Record] = []
        for (index, answer) in answers.enumerated() where try rankingOrder(answer.value) != nil {
            let order = try rankingOrder(answer.value)!
            records.append(.ranking(try ranking(order: order, texts: texts, user: answer.user, id: "\(context.id()):\(answer.question):\(index)", context)))
        }
        let ratings = answers.filter { $0.value.numberValue != nil }
        for user in Set(ratings.map { $0.user ?? "" }).sorted() {
            var order: [(field: String, rank: Int)] = []
            var scores: [(String, Double)] = []
            for answer in ratings where (answer.user ?? "") == user {
                if let field = texts.keys.filter({ answer.question.contains($0) }).max(by: { $0.count < $1.count }) {
                    scores.append((field, answer.value.numberValue!))
                }
            }
            guard scores.count >= 2 else { continue }
            let ranks = UltraFeedbackImporter.denseRanks(scores: scores.map(\.1))
            order = zip(scores, ranks).map { ($0.0, $1) }
            records.append(.ranking(try ranking(order: order, texts: texts, user: user.isEmpty ? nil : user, id: "\(context.id()):ratings:\(user)", context)))
        }
        guard !records.isEmpty else {
            throw RowProblem(.noAnnotation, field: "responses", "no ranking question, and no rating questions over two or more responses")
        }
        return records
    }

    /// The record's text fields and its submitted answers, whatever the shape.
    private static func shape(_ fields: RowFields) throws -> ([String: String], [Answer]) {
        if fields.has("fields") {
            let texts = try fields.objectField("fields").object.compactMapValues(\.stringValue)
            var answers: [Answer] = []
            switch try fields.value("responses") {
            case .array(let responses):  // v1
                for (index, item) in responses.enumerated() {
                    let response = try RowFields(item)
                    guard try isSubmitted(response) else { continue }
                    let values = try response.objectField("values")
                    for (question, wrapped) in values.object.sorted(by: { $0.key < $1.key }) {
                        let value = try RowFields(wrapped).value("value")
                        answers.append(Answer(question: question, user: try response.optionalText("user_id") ?? "response-\(index)", value: value))
                    }
                }
            case .object(let questions):  // v2
                for (question, list) in questions.sorted(by: { $0.key < $1.key }) {
                    for item in list.arrayValue ?? [] {
                        let response = try RowFields(item)
                        guard try isSubmitted(response) else { continue }
                        answers.append(Answer(question: question, user: try response.optionalText("user_id"), value: try response.value("value")))
                    }
                }
            case let other:
                throw RowProblem(.wrongType, field: "responses", "'responses' should be a list (v1) or an object (v2), found \(other.typeName)")
            }
            return (texts, answers)
        }
        // Hugging Face export: question columns hold lists of {user_id, value, status}.
        var texts: [String: String] = [:]
        var answers: [Answer] = []
        for (key, value) in fields.object.sorted(by: { $0.key < $1.key }) {
            if let text = value.stringValue, key != "external_id" { texts[key] = text; continue }
            guard !key.hasSuffix("-suggestion"), let list = value.arrayValue,
                  list.allSatisfy({ $0["value"] != nil && $0["user_id"] != nil }) else { continue }
            for item in list {
                let response = try RowFields(item)
                guard try isSubmitted(response) else { continue }
                answers.append(Answer(question: key, user: try response.optionalText("user_id"), value: try response.value("value")))
            }
        }
        return (texts, answers)
    }

    private static func isSubmitted(_ response: RowFields) throws -> Bool {
        guard let status = try response.optionalString("status") else { return true }
        return status == "submitted"
    }

    /// A ranking answer as (option, rank) pairs; nil when the value is not a ranking.
    static func rankingOrder(_ value: JSONValue) throws -> [(field: String, rank: Int)]? {
        switch value {
        case .array(let items) where items.allSatisfy({ $0.stringValue != nil }) && !items.isEmpty:
            return items.enumerated().map { ($1.stringValue!, $0 + 1) }
        case .array(let items) where items.allSatisfy({ $0["value"]?.stringValue != nil }) && !items.isEmpty:
            return try items.enumerated().map { index, item in
                let fields = try RowFields(item)
                return (try fields.string("value"), fields.has("rank") ? try fields.int("rank") : index + 1)
            }
        case .object(let object) where object["rank"] != nil && object["value"] != nil:
            let fields = RowFields(object: object)
            let names = try fields.stringArray("value")
            let ranks = try fields.array("rank").enumerated().map { index, rank -> Int in
                guard let number = rank.numberValue else { throw RowProblem(.wrongType, field: "rank[\(index)]", "ranks should be numbers") }
                return Int(number)
            }
            guard names.count == ranks.count else { throw RowProblem(.invalidValue, field: "rank", "\(ranks.count) ranks for \(names.count) options") }
            return Array(zip(names, ranks))
        default:
            return nil
        }
    }

    private static func ranking(order: [(field: String, rank: Int)], texts: [String: String], user: String?, id: String,
                                _ context: RowContext) throws -> Ranking {
        let ranked = Set(order.map(\.field))
        let promptKey = promptKeys.first { texts[$0] != nil } ?? texts.keys.filter { !ranked.contains($0) }.sorted().first
        guard let promptKey, let promptText = texts[promptKey] else {
            throw RowProblem(.missingField, field: "fields.prompt", "no prompt field besides the ranked responses")
        }
        let responses = try order.map { entry -> String in
            guard let text = texts[entry.field] else {
                throw RowProblem(.invalidValue, field: "fields.\(entry.field)", "the ranking names '\(entry.field)', which is not a field of the record")
            }
            return text
        }
        return Ranking(id: id, prompt: Prompt(messages: ChatML.messages(promptText)), responses: responses, ranks: order.map(\.rank),
                       dimension: context.options.defaultDimension, annotator: user.map { "argilla:\($0)" }, source: context.source)
    }
}
