import Foundation
import PlumbStore

/// Single responses with a safety label (BeaverTails: `prompt`, `response`, `is_safe` (a boolean, 1/0,
/// true/false, yes/no or safe/unsafe), `category`
/// a map of harm category -> bool; the built-in task's `labelled-responses.jsonl` adds `id`,
/// `tags`). Column names are resolved through `ColumnNames`; the category cell may be a map, a
/// list of names, or either one encoded as JSON or as a Python dict inside a CSV cell.
enum LabelledResponseImporter {
    static func columns(_ keys: Set<String>) -> [String: String] {
        ColumnNames.resolve([("prompt", ColumnNames.prompt), ("system", ColumnNames.system), ("response", ColumnNames.response),
                             ("safe", ColumnNames.safe), ("categories", ColumnNames.categories), ("id", ["id"]),
                             ("annotator", ["annotator"]), ("tags", ["tags"])], in: keys)
    }

    static func convert(_ fields: RowFields, columns: [String: String], _ context: RowContext) throws -> [Record] {
        try ColumnNames.namingInputColumns(columns) { try convertRenamed(RowFields(renaming: fields, columns), columns: columns, context) }
    }

    private static func convertRenamed(_ row: RowFields, columns: [String: String], _ context: RowContext) throws -> [Record] {
        var messages = try FieldParsing.prompt(row, key: "prompt")
        if let system = try row.optionalString("system"), !system.isEmpty { messages.insert(.system(system), at: 0) }
        if case .string(let text)? = row.object["safe"], CellText.isMissing(text) {
            throw RowProblem(.missingField, field: "safe", "the safety label is empty or NaN")
        }
        let record = LabelledResponse(
            id: try row.optionalText("id").flatMap { $0.isEmpty ? nil : $0 } ?? context.id(),
            prompt: Prompt(messages: messages, tags: try FieldParsing.tags(row)),
            response: try FieldParsing.response(row, key: "response"), safe: try FieldParsing.safetyLabel(row, "safe"),
            categories: try categories(row), annotator: try row.optionalText("annotator"), source: context.source)
        return [.labelledResponse(record)]
    }

    /// The categories marked present: keys mapped to true, or the names listed.
    static func categories(_ row: RowFields) throws -> [String] {
        guard row.has("categories") else { return [] }
        if case .string(let text) = try row.value("categories"), CellText.isMissing(text) { return [] }
        switch try CellText.decoded(row, "categories") {
        case .object(let map):
            return try map.keys.sorted().filter { key in
                switch map[key]! {
                case .bool(let flag): return flag
                case .number(let number): return number != 0
                case .null: return false
                case let other: throw RowProblem(.wrongType, field: "categories.\(key)", "category '\(key)' should be a boolean, found \(other.typeName)")
                }
            }
        case .array(let items):
            return try items.enumerated().map { index, item in
                guard case .string(let name) = item else {
                    throw RowProblem(.wrongType, field: "categories[\(index)]", "category \(index + 1) should be a name, found \(item.typeName)")
                }
                return name
            }.sorted()
        case .string(let name): return [name]
        case let other: throw RowProblem(.wrongType, field: "categories", "the categories should be a map of name -> bool or a list, found \(other.typeName)")
        }
    }
}
