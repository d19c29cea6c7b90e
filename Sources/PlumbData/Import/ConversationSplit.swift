import Foundation
import PlumbStore

/// Splits two conversations that answer the same user turns (arena battles) into what they share
/// and what each side said. The prompt is the longest shared start that ends with a user turn;
/// each side's turns after it, up to its final assistant turn, are its history (nil when empty).
struct ConversationSplit: Equatable {
    var prompt: [Message]
    var historyA: [Message]?
    var historyB: [Message]?
    var finalA: String
    var finalB: String

    static func split(_ a: [Message], _ b: [Message], names: (String, String)) throws -> ConversationSplit {
        for (messages, name) in [(a, names.0), (b, names.1)] {
            guard let last = messages.last, last.role == .assistant else {
                throw RowProblem(.malformedTranscript, field: name, "'\(name)' does not end with an assistant turn")
            }
        }
        var shared = 0
        while shared < min(a.count, b.count) - 1 && a[shared] == b[shared] { shared += 1 }
        while shared > 0 && a[shared - 1].role != .user { shared -= 1 }
        guard shared > 0 else {
            throw RowProblem(.conversationsDiverge, "'\(names.0)' and '\(names.1)' do not start with the same user turn")
        }
        func history(_ messages: [Message]) -> [Message]? {
            let middle = Array(messages[shared..<(messages.count - 1)])
            return middle.isEmpty ? nil : middle
        }
        return ConversationSplit(prompt: Array(a[..<shared]), historyA: history(a), historyB: history(b),
                                 finalA: a[a.count - 1].content, finalB: b[b.count - 1].content)
    }
}
