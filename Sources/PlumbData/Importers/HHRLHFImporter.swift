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
        let (chosenPrompt, chosen) = try splitLastTurn(Array(try fields.string("chosen").utf8), field: "chosen")
        let (rejectedPrompt, rejected) = try splitLastTurn(Array(try fields.string("rejected").utf8), field: "rejected")
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

    private static let human = Array("\n\nHuman:".utf8)
    private static let assistant = Array("\n\nAssistant:".utf8)

    /// The transcript's bytes before its last "\n\nAssistant:" and the (trimmed) text after it.
    static func splitLastTurn(_ bytes: [UInt8], field: String) throws -> (ArraySlice<UInt8>, String) {
        guard let marker = occurrences(of: assistant, in: bytes[...]).last else {
            throw RowProblem(.malformedTranscript, field: field, "no \"Assistant:\" turn in '\(field)'")
        }
        return (bytes[..<marker], text(bytes[(marker + assistant.count)...]))
    }

    /// Splits a transcript into turns at "\n\nHuman:" and "\n\nAssistant:" markers; consecutive
    /// turns of one role are merged.
    static func parse(_ transcript: ArraySlice<UInt8>, field: String) throws -> [Message] {
        var bytes = transcript
        if !bytes.starts(with: [0x0a, 0x0a]) { bytes = ArraySlice([0x0a, 0x0a] + Array(bytes)) }  // a few rows start with "Human:"
        let markers = (occurrences(of: human, in: bytes).map { ($0, human.count, Role.user) }
            + occurrences(of: assistant, in: bytes).map { ($0, assistant.count, Role.assistant) }).sorted { $0.0 < $1.0 }
        guard let first = markers.first, first.0 == bytes.startIndex, first.2 == .user else {
            throw RowProblem(.malformedTranscript, field: field, "'\(field)' does not start with a Human turn")
        }
        var messages: [Message] = []
        for (index, marker) in markers.enumerated() {
            let end = index + 1 < markers.count ? markers[index + 1].0 : bytes.endIndex
            let content = text(bytes[(marker.0 + marker.1)..<end])
            if let last = messages.last, last.role == marker.2 {
                messages[messages.count - 1].content = last.content + "\n\n" + content
            } else {
                messages.append(Message(role: marker.2, content: content))
            }
        }
        return messages
    }

    /// Start offsets of every (non-overlapping) occurrence of `marker` in `bytes`.
    static func occurrences(of marker: [UInt8], in bytes: ArraySlice<UInt8>) -> [Int] {
        var found: [Int] = []
        var index = bytes.startIndex
        let last = bytes.endIndex - marker.count
        while index <= last {
            if bytes[index] == marker[0] && bytes[index..<(index + marker.count)].elementsEqual(marker) {
                found.append(index)
                index += marker.count
            } else {
                index += 1
            }
        }
        return found
    }

    /// UTF-8 bytes as text, ASCII whitespace trimmed at both ends.
    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while let first = slice.first, Validator.isASCIIWhitespace(first) { slice.removeFirst() }
        while let last = slice.last, Validator.isASCIIWhitespace(last) { slice.removeLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}
