import Foundation
import PlumbStore

/// Pairwise judgements coded as numbers, one or several per row:
/// - PandaLM (`WeOpenML/PandaLM` test set): `instruction`, `input`, `response1`, `response2`,
///   `annotator1`, `annotator2`, `annotator3`, each 0 (tie), 1 (response1 better) or 2 (response2
///   better). Each annotator's vote is one comparison (annotator `annotatorN`); the importer
///   aggregates the votes of a pair (`VoteAggregator`).
/// - Auto-J (`GAIR-NLP/auto-j` pairwise test data): `prompt`, `response 1`, `response 2` (keys with
///   spaces), `label` 0 (response 1 better), 1 (response 2 better) or 2 (tie), `scenario` (a tag).
/// A tie is a tie record (response 1 listed as chosen). A null vote is left out; any other value
/// is `invalid_value` naming the column.
enum AnnotatorVotesImporter {
    enum Vote { case first, second, tie }

    /// `annotator1`, `annotator2`, ... in number order.
    static func annotatorColumns(_ keys: Set<String>) -> [String] {
        keys.filter { $0.hasPrefix("annotator") && Int($0.dropFirst("annotator".count)) != nil }
            .sorted { Int($0.dropFirst(9))! < Int($1.dropFirst(9))! }
    }

    static func convertPandaLM(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let keys = Set(fields.object.keys)
        guard let a = ColumnNames.first(ColumnNames.responseA, in: keys), let b = ColumnNames.first(ColumnNames.responseB, in: keys) else {
            throw RowProblem(.missingField, field: "response1", "missing field 'response1' / 'response2'")
        }
        let promptKey = ColumnNames.first(ColumnNames.prompt, in: keys) ?? "instruction"
        let instruction = promptKey == "instruction" ? try SFTImporter.alpacaInstruction(fields) : try fields.string(promptKey)
        let prompt = Prompt(messages: [.user(instruction)])
        let first = try FieldParsing.response(fields, key: a), second = try FieldParsing.response(fields, key: b)
        var records: [Record] = []
        for column in annotatorColumns(keys) where fields.has(column) {
            let vote = try self.vote(fields, column, codes: [0: .tie, 1: .first, 2: .second])
            records.append(.comparison(comparison(vote, prompt, first, second, annotator: column, id: context.id(column), context)))
        }
        guard !records.isEmpty else { throw RowProblem(.noAnnotation, field: "annotator1", "no annotator gave a vote") }
        return records
    }

    static func convertAutoJ(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let tags = try fields.optionalText("scenario").map { [$0] } ?? []
        let prompt = Prompt(messages: try FieldParsing.prompt(fields, key: "prompt"), tags: tags)
        let vote = try self.vote(fields, "label", codes: [0: .first, 1: .second, 2: .tie])
        let id = try fields.optionalText("id") ?? context.id()
        return [.comparison(comparison(vote, prompt, try FieldParsing.response(fields, key: "response 1"),
                                       try FieldParsing.response(fields, key: "response 2"), annotator: nil, id: id, context))]
    }

    private static func comparison(_ vote: Vote, _ prompt: Prompt, _ first: String, _ second: String, annotator: String?,
                                   id: String, _ context: RowContext) -> Comparison {
        var comparison = Comparison(id: id, prompt: prompt, chosen: vote == .second ? second : first,
                                    rejected: vote == .second ? first : second, dimension: context.options.defaultDimension,
                                    annotator: annotator, source: context.source)
        if vote == .tie { comparison.details.tie = .tie }
        return comparison
    }

    private static func vote(_ fields: RowFields, _ key: String, codes: [Int: Vote]) throws -> Vote {
        let number = try fields.number(key)
        guard number == number.rounded(), let vote = codes[Int(number)] else {
            let allowed = codes.keys.sorted().map { "\($0) (\(codes[$0]!))" }.joined(separator: ", ")
            throw RowProblem(.invalidValue, field: key, "field '\(key)' is \(number), expected \(allowed)")
        }
        return vote
    }
}
