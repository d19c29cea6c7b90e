import Foundation
import PlumbStore

/// TRL preference rows: `chosen` and `rejected`, with an explicit `prompt` or an implicit one
/// (the shared start of two full conversations); each a plain string or a message list. Optional
/// columns (written by Plumbline's task generator and its own TRL export): `id`, `prompt_id`,
/// `dimension`, `strength` or `margin`, `annotator`, `chosen_safe`, `rejected_safe`, `tags`.
/// The prompt may sit under another common name (`question`, `query`, `input`: DPO-pair files), and
/// a `system` column becomes the conversation's system message.
enum TRLImporter {
    /// The column that holds the prompt, if any.
    static func promptKey(_ keys: Set<String>) -> String? {
        ColumnNames.first(ColumnNames.prompt.filter { $0 != "history" && $0 != "context" }, in: keys)
    }

    static func columns(_ keys: Set<String>) -> [String: String] {
        var columns = ColumnNames.resolve([("system", ColumnNames.system)], in: keys)
        columns["prompt"] = promptKey(keys) ?? "(shared start of chosen and rejected)"
        columns["chosen"] = "chosen"
        columns["rejected"] = "rejected"
        return columns
    }

    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        var prompt: [Message]
        let chosen: String, rejected: String
        if let key = promptKey(Set(fields.object.keys.filter(fields.has))) {
            prompt = try FieldParsing.prompt(fields, key: key)
            chosen = try FieldParsing.response(fields, key: "chosen")
            rejected = try FieldParsing.response(fields, key: "rejected")
        } else {
            (prompt, chosen, rejected) = try implicit(fields)
        }
        if let key = ColumnNames.first(ColumnNames.system, in: Set(fields.object.keys.filter(fields.has))),
           let system = try fields.optionalString(key), !system.isEmpty, prompt.first?.role != .system {
            prompt.insert(.system(system), at: 0)
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
