import Foundation
import PlumbStore

/// TRL preference rows: `chosen` and `rejected`, with an explicit `prompt` or an implicit one
/// (the shared start of two full conversations); each a plain string or a message list. Optional
/// columns (written by Plumbline's task generator and its own TRL export): `id`, `prompt_id`,
/// `dimension`, `strength` or `margin`, `annotator`, `chosen_safe`, `rejected_safe`, `tags`.
enum TRLImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let prompt: [Message], chosen: String, rejected: String
        if fields.has("prompt") {
            prompt = try FieldParsing.prompt(fields, key: "prompt")
            chosen = try FieldParsing.response(fields, key: "chosen")
            rejected = try FieldParsing.response(fields, key: "rejected")
        } else {
            (prompt, chosen, rejected) = try implicit(fields)
        }
        let comparison = Comparison(
            id: try fields.optionalText("id") ?? context.id(),
            prompt: Prompt(id: try fields.optionalText("prompt_id"), messages: prompt, tags: try FieldParsing.tags(fields)),
            chosen: chosen, rejected: rejected,
            dimension: try FieldParsing.dimension(fields, default: context.options.defaultDimension),
            strength: try FieldParsing.strength(fields),
            chosenSafe: try fields.optionalBool("chosen_safe"), rejectedSafe: try fields.optionalBool("rejected_safe"),
            annotator: try fields.optionalText("annotator"), source: context.source)
        return [.comparison(comparison)]
    }

    /// Implicit prompt. Message lists split at the last assistant turn; plain strings split at
    /// their longest common prefix, backed off to the last whitespace (TRL's `extract_prompt`).
    private static func implicit(_ fields: RowFields) throws -> ([Message], String, String) {
        switch (try fields.value("chosen"), try fields.value("rejected")) {
        case (.array, .array):
            let split = try FieldParsing.splitImplicit(chosen: try fields.messages("chosen"), rejected: try fields.messages("rejected"))
            return (split.prompt, split.chosen, split.rejected)
        case (.string(let chosen), .string(let rejected)):
            var prefix = chosen.commonPrefix(with: rejected)
            if prefix.count < chosen.count || prefix.count < rejected.count,
               let cut = prefix.lastIndex(where: \.isWhitespace) {
                prefix = String(prefix[...cut])
            }
            guard !prefix.isEmpty else {
                throw RowProblem(.missingField, field: "prompt", "no 'prompt' and no shared start between chosen and rejected")
            }
            return ([.user(prefix)], String(chosen.dropFirst(prefix.count)), String(rejected.dropFirst(prefix.count)))
        case let (chosen, rejected):
            throw RowProblem(.wrongType, field: "chosen", "'chosen' and 'rejected' should both be strings or both message lists, found \(chosen.typeName) and \(rejected.typeName)")
        }
    }
}

/// LLaMA-Factory preference formats:
/// - ShareGPT style: `conversations` [{from, value}], `chosen` and `rejected` {from, value}, optional `system`;
/// - Alpaca style: `instruction`, optional `input` (joined with a newline), `chosen`, `rejected`, optional `system`;
/// - v1 style: `chosen_messages` and `rejected_messages`, full conversations whose content is a list
///   of {type, value} parts (the shared start is the prompt).
enum LlamaFactoryImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        var prompt: [Message]
        let chosen: String, rejected: String
        if fields.has("chosen_messages") {
            let split = try FieldParsing.splitImplicit(chosen: try fields.messages("chosen_messages"),
                                                       rejected: try fields.messages("rejected_messages"))
            (prompt, chosen, rejected) = (split.prompt, split.chosen, split.rejected)
        } else if fields.has("conversations") {
            prompt = try fields.messages("conversations")
            chosen = try FieldParsing.response(fields, key: "chosen")
            rejected = try FieldParsing.response(fields, key: "rejected")
        } else {
            prompt = [.user(try SFTImporter.alpacaInstruction(fields))]
            chosen = try fields.string("chosen")
            rejected = try fields.string("rejected")
        }
        if let system = try fields.optionalString("system"), !system.isEmpty { prompt.insert(.system(system), at: 0) }
        let comparison = Comparison(id: context.id(), prompt: Prompt(messages: prompt), chosen: chosen, rejected: rejected,
                                    dimension: context.options.defaultDimension, source: context.source)
        return [.comparison(comparison)]
    }
}

/// CSV (or any flat rows) with a column mapping: canonical field -> column. `prompt`, `chosen`,
/// `rejected` give a comparison; `prompt`, `response` a demonstration. Optional: `system`,
/// `dimension`, `strength`, `margin`, `annotator`, `id`, `chosen_safe`, `rejected_safe`.
enum CSVImporter {
    static let requiredForComparison = ["prompt", "chosen", "rejected"]
    static let requiredForDemonstration = ["prompt", "response"]
    static let optionalFields = ["system", "dimension", "strength", "margin", "annotator", "id", "chosen_safe", "rejected_safe"]

    /// The mapping to use: the given one, or the identity when the header already names the fields.
    static func mapping(header: [String], given: [String: String], file: String) throws -> [String: String] {
        var mapping = given
        if mapping.isEmpty {
            for field in requiredForComparison + requiredForDemonstration + optionalFields where header.contains(field) {
                mapping[field] = field
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
