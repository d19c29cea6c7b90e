import Foundation
import PlumbStore

/// CSV (or any flat rows) with a column mapping: canonical field -> column. `prompt`, `chosen`,
/// `rejected` give a comparison; `prompt`, `response` a demonstration. Optional: `system`,
/// `dimension`, `strength`, `margin`, `annotator`, `id`, `chosen_safe`, `rejected_safe`.
enum CSVImporter {
    static let requiredForComparison = ["prompt", "chosen", "rejected"]
    static let requiredForDemonstration = ["prompt", "response"]
    static let optionalFields = ["system", "dimension", "strength", "margin", "annotator", "id", "chosen_safe", "rejected_safe"]

    /// The mapping to use: the given one, or the identity when the header already names the fields,
    /// with the common other names (`ColumnNames`: `question` for the prompt, `response_j` for chosen,
    /// ...) for the prompt, system, chosen, rejected and response columns it lacks.
    static func mapping(header: [String], given: [String: String], file: String) throws -> [String: String] {
        var mapping = given
        if mapping.isEmpty {
            for field in requiredForComparison + requiredForDemonstration + optionalFields where header.contains(field) {
                mapping[field] = field
            }
            let keys = Set(header)
            for (field, names) in [("prompt", ColumnNames.prompt), ("system", ColumnNames.system),
                                   ("chosen", ColumnNames.chosen), ("rejected", ColumnNames.rejected)] where mapping[field] == nil {
                mapping[field] = ColumnNames.first(names, in: keys)
            }
            if mapping["chosen"] == nil, mapping["rejected"] == nil, mapping["response"] == nil {
                mapping["response"] = ColumnNames.first(ColumnNames.response, in: keys)
            }
        }
        let required = mapping["response"] != nil ? requiredForDemonstration : requiredForComparison
        for field in required where mapping[field] == nil {
            throw InputError(file: file, line: 1, field: field,
                             reason: "no column mapped to '\(field)'; pass --columns \(required.map { "\($0)=COLUMN" }.joined(separator: ","))")
        }
        for (field, column) in mapping.sorted(by: { $0.key < $1.key }) {
            guard requiredForComparison.contains(field) || requiredForDemonstration.contains(field) || optionalFields.contains(field) else {
                throw InputError(file: file, field: field, reason: "unknown canonical field '\(field)' in the column mapping")
            }
            guard header.contains(column) else {
                throw InputError(file: file, line: 1, field: column,
                                 reason: "the header has no column '\(column)' (mapped to '\(field)'); columns are: \(header.joined(separator: ", "))")
            }
        }
        return mapping
    }

    static func convert(_ fields: RowFields, mapping: [String: String], _ context: RowContext) throws -> [Record] {
        var renamed: [String: JSONValue] = [:]
        for (field, column) in mapping { renamed[field] = fields.object[column] }
        let row = RowFields(object: renamed)
        var prompt: [Message] = [.user(try row.string("prompt"))]
        if let system = try row.optionalString("system"), !system.isEmpty { prompt.insert(.system(system), at: 0) }
        if mapping["response"] != nil {
            let demonstration = Demonstration(id: try row.optionalText("id") ?? context.id(), prompt: Prompt(messages: prompt),
                                              response: try row.string("response"), source: context.source)
            return [.demonstration(demonstration)]
        }
        let comparison = Comparison(
            id: try row.optionalText("id").flatMap { $0.isEmpty ? nil : $0 } ?? context.id(), prompt: Prompt(messages: prompt),
            chosen: try row.string("chosen"), rejected: try row.string("rejected"),
            dimension: try FieldParsing.dimension(row, default: context.options.defaultDimension),
            strength: try FieldParsing.strength(row),
            chosenSafe: try row.optionalBool("chosen_safe"), rejectedSafe: try row.optionalBool("rejected_safe"),
            annotator: try row.optionalText("annotator"), source: context.source)
        return [.comparison(comparison)]
    }
}
