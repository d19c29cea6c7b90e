import Foundation
import PlumbStore

/// Anthropic HH-RLHF: `chosen` and `rejected` are whole transcripts,
/// "\n\nHuman: ...\n\nAssistant: ...". Each transcript is cut at its last "\n\nAssistant:"; the
/// text before it must be the same in both (else the row is quarantined as `conversations_diverge`:
/// which earlier turn the preference is about is unknown, so no honest comparison can be made) and
/// becomes the prompt; the text after it is the response. A few real rows hold two consecutive
/// turns of one role; they are merged into one turn, joined by a blank line.
enum HHRLHFImporter {
    static func convert(_ fields: RowFields, _ context: RowContext) throws -> [Record] {
        let (chosenPrompt, chosen) = try splitLastTurn(try fields.string("chosen"), field: "chosen")
        let (rejectedPrompt, rejected) = try splitLastTurn(try fields.string("rejected"), field: "rejected")
        guard chosenPrompt == rejectedPrompt else {
            throw RowProblem(.conversationsDiverge, "chosen and rejected transcripts differ before the last assistant turn")
        }
        let prompt = try parse(chosenPrompt, field: "chosen")
        guard prompt.last?.role == .user else {
            throw RowProblem(.malformedTranscript, field: "chosen", "the turn before the last assistant turn is not a Human turn")
        }
        let comparison = Comparison(
            id: context.id(), prompt: Prompt(messages: prompt), chosen: chosen, rejected: rejected,
            dimension: context.options.defaultDimension, source: context.source)
        return [.comparison(comparison)]
    }

    /// The transcript before its last "\n\nAssistant:" and the (trimmed) text after it.
    static func splitLastTurn(_ transcript: String, field: String) throws -> (String, String) {
        guard let marker = transcript.range(of: "\n\nAssistant:", options: .backwards) else {
            throw RowProblem(.malformedTranscript, field: field, "no \"Assistant:\" turn in '\(field)'")
        }
        return (String(transcript[..<marker.lowerBound]), trimmed(transcript[marker.upperBound...]))
    }

    private static let markers: [(String, Role)] = [("\n\nHuman:", .user), ("\n\nAssistant:", .assistant)]

    /// Splits a transcript into turns at "\n\nHuman:" and "\n\nAssistant:" markers.
    static func parse(_ transcript: String, field: String) throws -> [Message] {
        let text = transcript.hasPrefix("\n\n") ? transcript : "\n\n" + transcript  // a few rows start with "Human:"
        var messages: [Message] = []
        var current: (role: Role, start: String.Index)?
        var cursor = text.startIndex
        while true {
            let found = markers.compactMap { marker, role in
                text.range(of: marker, range: cursor..<text.endIndex).map { ($0, role) }
            }.min { $0.0.lowerBound < $1.0.lowerBound }
            guard let (range, role) = found else { break }
            if let open = current { messages.append(Message(role: open.role, content: trimmed(text[open.start..<range.lowerBound]))) }
            current = (role, range.upperBound)
            cursor = range.upperBound
        }
        guard let open = current else {
            throw RowProblem(.malformedTranscript, field: field, "no \"Human:\" / \"Assistant:\" turns in '\(field)'")
        }
        messages.append(Message(role: open.role, content: trimmed(text[open.start...])))
        var merged: [Message] = []
        for message in messages {
            if let last = merged.last, last.role == message.role {
                merged[merged.count - 1].content = last.content + "\n\n" + message.content
            } else {
                merged.append(message)
            }
        }
        guard merged.first?.role == .user else {
            throw RowProblem(.malformedTranscript, field: field, "'\(field)' does not start with a Human turn")
        }
        return merged
    }

    private static func trimmed(_ text: Substring) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
