import Foundation

/// ChatML (`<|im_start|>role\ncontent<|im_end|>`), as in the Argilla study's instructions. Text
/// without ChatML markers is one user message; a trailing open `assistant` header is dropped.
enum ChatML {
    static func messages(_ text: String) -> [Message] {
        guard text.contains("<|im_start|>") else { return [.user(text)] }
        var messages: [Message] = []
        for block in text.components(separatedBy: "<|im_start|>").dropFirst() {
            let body = block.components(separatedBy: "<|im_end|>")[0]
            guard let newline = body.firstIndex(of: "\n") else { continue }
            let content = String(body[body.index(after: newline)...])
            guard let role = Role(sourceName: String(body[..<newline])), !(role == .assistant && content.isEmpty) else { continue }
            messages.append(Message(role: role, content: content))
        }
        return messages
    }
}
