import Foundation

/// How a conversation becomes tokens.
///
/// Both templates tokenise each piece of text on its own and join the pieces with special ids, so the
/// boundary between prompt and response is exact: the response tokens are `encode(response) + [eos]`,
/// the same ids as tokenising the response alone. BOS and EOS are always ids, never text, so a
/// literal "<s>" inside a message can never become a second BOS.
public enum ChatTemplate: String, Codable, CaseIterable, Sendable {
    /// Llama 2 chat (Meta's `chat_completion`):
    ///     <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {answer} </s><s>[INST] {user} [/INST]
    /// The system prompt is folded into the first user turn. Meta encodes " {answer} " inside the
    /// turn string; here the answer is encoded alone (so its boundary is exact), without the trailing space.
    case llama2
    /// Plumbline's compact template, with three user-defined pieces:
    ///     <s><|system|>{system}<|user|>{user}<|assistant|>{answer}</s><|user|>{user}<|assistant|>
    case plumbline

    /// The user-defined pieces a tokenizer must have for this template.
    public var specialTokens: [String] {
        switch self {
        case .llama2: return []
        case .plumbline: return ["<|system|>", "<|user|>", "<|assistant|>"]
        }
    }
}

/// What an artifact records about the template that tokenised it.
public struct ChatTemplateInfo: Codable, Equatable, Sendable {
    public var template: ChatTemplate
    public var bosID: Int32
    public var eosID: Int32
    /// Each special piece of the template with its id in the tokenizer.
    public var specialTokens: [String: Int32]
}

/// A prompt and response in token space: `tokens[..<promptCount]` is the prompt,
/// `tokens[promptCount...]` the response (ending with EOS).
public struct TokenizedExample: Equatable, Sendable {
    public var tokens: [Int32]
    public var promptCount: Int

    public init(tokens: [Int32], promptCount: Int) {
        self.tokens = tokens
        self.promptCount = promptCount
    }

    public var promptTokens: ArraySlice<Int32> { tokens[..<promptCount] }
    public var responseTokens: ArraySlice<Int32> { tokens[promptCount...] }
}

/// A tokenizer bound to a chat template.
public struct TemplatedTokenizer: Sendable {
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let info: ChatTemplateInfo

    public init(tokenizer: Tokenizer, template: ChatTemplate) throws {
        guard let bos = tokenizer.bosID, let eos = tokenizer.eosID else {
            throw TokenizerError("chat template \(template.rawValue): the tokenizer has no BOS or EOS id")
        }
        var specials: [String: Int32] = [:]
        for piece in template.specialTokens {
            guard let id = tokenizer.id(ofPiece: piece) else {
                throw TokenizerError("chat template \(template.rawValue) needs the piece \(piece), which the tokenizer lacks; "
                    + "train one with `plumb tokenizer train` (it adds the template's pieces) or use --template llama2")
            }
            specials[piece] = id
        }
        self.tokenizer = tokenizer
        self.template = template
        self.info = ChatTemplateInfo(template: template, bosID: bos, eosID: eos, specialTokens: specials)
    }

    /// The prompt's tokens, ending where the assistant's answer begins.
    public func encodePrompt(_ messages: [Message]) throws -> [Int32] {
        switch template {
        case .llama2: return try llama2Prompt(messages)
        case .plumbline: return try plumblinePrompt(messages)
        }
    }

    /// The response's tokens: `encode(response) + [eos]`, identical in both templates.
    public func encodeResponse(_ response: String) throws -> [Int32] {
        try tokenizer.encode(response) + [info.eosID]
    }

    public func encode(prompt: [Message], response: String) throws -> TokenizedExample {
        let promptTokens = try encodePrompt(prompt)
        return TokenizedExample(tokens: promptTokens + (try encodeResponse(response)), promptCount: promptTokens.count)
    }

    private func llama2Prompt(_ messages: [Message]) throws -> [Int32] {
        var turns = messages
        if let first = turns.first, first.role == .system {
            turns.removeFirst()
            guard let user = turns.first, user.role == .user else {
                throw TokenizerError("llama2 template: a system message must be followed by a user message")
            }
            turns[0] = .user("<<SYS>>\n\(first.content)\n<</SYS>>\n\n\(user.content)")
        }
        var tokens: [Int32] = []
        for (index, message) in turns.enumerated() {
            let expected: Role = index % 2 == 0 ? .user : .assistant
            guard message.role == expected else {
                throw TokenizerError("llama2 template: turn \(index + 1) is \(message.role.rawValue), expected \(expected.rawValue) (turns must alternate user/assistant)")
            }
            if message.role == .user {
                tokens.append(info.bosID)
                tokens += try tokenizer.encode("[INST] \(message.content) [/INST]")
            } else {
                tokens += try encodeResponse(message.content)
            }
        }
        guard turns.last?.role == .user else {
            throw TokenizerError("llama2 template: the prompt must end with a user turn")
        }
        return tokens
    }

    private func plumblinePrompt(_ messages: [Message]) throws -> [Int32] {
        var tokens: [Int32] = [info.bosID]
        for message in messages {
            switch message.role {
            case .system: tokens.append(info.specialTokens["<|system|>"]!)
            case .user: tokens.append(info.specialTokens["<|user|>"]!)
            case .assistant: tokens.append(info.specialTokens["<|assistant|>"]!)
            }
            tokens += try tokenizer.encode(message.content)
            if message.role == .assistant { tokens.append(info.eosID) }
        }
        guard messages.last?.role != .assistant else {
            throw TokenizerError("plumbline template: the prompt must not end with an assistant turn")
        }
        tokens.append(info.specialTokens["<|assistant|>"]!)
        return tokens
    }
}
