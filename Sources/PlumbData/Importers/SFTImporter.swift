import Foundation
import PlumbStore

/// Demonstrations for supervised fine-tuning, and prompt sets.
/// - Alpaca: `instruction`, optional `input`, `output`, optional `system`.
/// - ShareGPT: `conversations` [{from, value}], optional `system`; the last turn (an assistant turn)
///   is the response, the turns before it the prompt.
/// - Message lists: `messages` [{role, content}], optional `id`, `tags`. Ending with an assistant
///   turn: a demonstration. Ending with a user turn: a prompt record (prompt sets).
enum SFTImporter {
    static func alpacaInstruction(_ fields: RowFields) throws -> String {
        let instruction = try fields.string("instruction")
        let input = try fields.optionalString("input") ?? ""
        return input.isEmpty ? instruction : instruction + "\n" + input
    }

    static func convertAlpaca(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        var prompt: [Message] = [.user(try alpacaInstruction(fields))]
        if let system = try fields.optionalString("system"), !system.isEmpty { prompt.insert(.system(system), at: 0) }
        return [.demonstration(Demonstration(id: context.id(), prompt: Prompt(messages: prompt),
                                             response: try fields.string("output"), source: context.source))]
    }

    static func convertShareGPT(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        var messages = try fields.messages("conversations")
        if let system = try fields.optionalString("system"), !system.isEmpty { messages.insert(.system(system), at: 0) }
        return [try conversation(messages, fields: fields, field: "conversations", context)]
    }

    static func convertMessages(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        [try conversation(try fields.messages("messages"), fields: fields, field: "messages", context)]
    }

    private static func conversation(_ messages: [Message], fields: RowFields, field: String, _ context: RowContext) throws -> Record {
        let id = try fields.optionalText("id")
        let tags = try FieldParsing.tags(fields)
        guard let last = messages.last else { throw RowProblem(.emptyPrompt, field: field, "'\(field)' is empty") }
        if last.role == .assistant {
            let prompt = Prompt(messages: Array(messages.dropLast()), tags: tags)
            return .demonstration(Demonstration(id: id ?? context.id(), prompt: prompt, response: last.content, source: context.source))
        }
        return .prompt(PromptRecord(prompt: Prompt(id: id, messages: messages, tags: tags), source: context.source))
    }
}
