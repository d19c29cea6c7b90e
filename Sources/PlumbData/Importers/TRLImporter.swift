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
