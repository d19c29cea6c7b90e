import Foundation
import PlumbStore

/// Per-response ratings (HelpSteer, HelpSteer2): `prompt`, `response` and attribute columns
/// (`helpfulness`, `correctness`, `coherence`, `complexity`, `verbosity`), integers 0-4. Each row
/// is a `rating/1`; the importer pairs the ratings of adjacent rows with the same prompt
/// (`RatingPairs`, by `ImportOptions.ratingWeights`, default helpfulness). A score outside the
/// scale, or not a number, quarantines the row naming the attribute.
enum RatingImporter {
    static let attributes = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]

    static func columns(_ keys: Set<String>) -> [String: String] {
        var columns = ColumnNames.resolve([("prompt", ColumnNames.prompt), ("system", ColumnNames.system),
                                           ("response", ColumnNames.response), ("id", ColumnNames.id),
                                           ("annotator", ["annotator", "annotator_id"])], in: keys)
        for name in attributes where keys.contains(name) { columns["score:" + name] = name }
        return columns
    }

    static func convert(_ fields: RowFields, columns: [String: String], _ context: RowContext) throws -> [Record] {
        try ColumnNames.namingInputColumns(columns) {
            let row = RowFields(renaming: fields, columns)
            var messages = try FieldParsing.prompt(row, key: "prompt")
            if let system = try row.optionalString("system"), !system.isEmpty { messages.insert(.system(system), at: 0) }
            let scale = RatingScale.helpSteer
            var scores: [String: Double] = [:]
            for key in columns.keys.sorted() where key.hasPrefix("score:") {
                let name = String(key.dropFirst("score:".count))
                let value = try row.number(key)
                guard value >= scale.min, value <= scale.max else {
                    throw RowProblem(.outOfScale, field: key, "rating '\(name)' is \(value), outside its scale \(Int(scale.min))-\(Int(scale.max))")
                }
                scores[name] = value
            }
            let rating = Rating(id: try row.optionalText("id").flatMap { $0.isEmpty ? nil : $0 } ?? context.id(),
                                prompt: Prompt(messages: messages), response: try FieldParsing.response(row, key: "response"),
                                scores: scores, scale: scale, annotator: try row.optionalText("annotator"), source: context.source)
            return [.rating(rating)]
        }
    }
}
