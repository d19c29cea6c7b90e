import Foundation
import PlumbStore

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
