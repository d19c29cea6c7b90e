import Foundation

/// Size limits past which a record is quarantined as `too_long`.
public struct ValidationLimits: Codable, Equatable, Sendable {
    /// Characters in the prompt (all messages together).
    public var maxPromptCharacters = 32_000
    /// Characters in any one response.
    public var maxResponseCharacters = 32_000

    public init() {}
}

/// Checks a converted record; returns the reason it cannot be used, or nil.
enum Validator {
    static func problem(_ record: Record, limits: ValidationLimits) -> RowProblem? {
        let prompt = record.prompt
        let promptLength = prompt.messages.reduce(0) { $0 + $1.content.count }
        if case .ranking = record {
            // Rankings may lack a prompt (Label Studio's search-result Ranker); they then give no pairs.
        } else if prompt.messages.isEmpty || prompt.messages.allSatisfy({ isBlank($0.content) }) {
            return RowProblem(.emptyPrompt, field: "prompt", "the prompt is empty")
        }
        if promptLength > limits.maxPromptCharacters {
            return RowProblem(.tooLong, field: "prompt", "the prompt has \(promptLength) characters, over the limit of \(limits.maxPromptCharacters)")
        }
        for (index, response) in record.responses.enumerated() {
            if isBlank(response) { return RowProblem(.emptyResponse, field: responseField(record, index), "the response is empty") }
            if response.count > limits.maxResponseCharacters {
                return RowProblem(.tooLong, field: responseField(record, index),
                                  "the response has \(response.count) characters, over the limit of \(limits.maxResponseCharacters)")
            }
        }
        switch record {
        case .comparison(let c) where normalise(c.chosen) == normalise(c.rejected):
            return RowProblem(.identicalResponses, "chosen and rejected are the same text")
        case .edit(let e) where normalise(e.original) == normalise(e.edited):
            return RowProblem(.identicalResponses, "the edited response is the same as the original")
        case .ranking(let r) where r.responses.count < 2 || r.ranks.count != r.responses.count:
            return RowProblem(.invalidValue, field: "ranks", "a ranking needs at least two responses, each with a rank")
        case .ranking(let r) where Set(r.responses.map(normalise)).count < r.responses.count:
            return RowProblem(.identicalResponses, "the ranking holds the same response twice")
        default:
            return nil
        }
    }

    private static func responseField(_ record: Record, _ index: Int) -> String {
        switch record {
        case .comparison: return index == 0 ? "chosen" : "rejected"
        case .edit: return index == 0 ? "original" : "edited"
        case .ranking: return "responses[\(index)]"
        default: return "response"
        }
    }

    static func isBlank(_ text: String) -> Bool {
        text.utf8.allSatisfy(isASCIIWhitespace) || text.allSatisfy(\.isWhitespace)
    }

    /// Text compared for identity: surrounding ASCII whitespace removed, inner runs of ASCII
    /// whitespace collapsed to one space. Works on UTF-8 bytes (this runs for every record).
    static func normalise(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            if isASCIIWhitespace(byte) {
                pendingSpace = !bytes.isEmpty
                continue
            }
            if pendingSpace { bytes.append(0x20); pendingSpace = false }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @inline(__always)
    static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0d)
    }
}
