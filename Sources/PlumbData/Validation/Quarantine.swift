import Foundation

/// Why a row or record was set aside instead of imported.
public enum QuarantineReason: String, Codable, CaseIterable, Sendable, Comparable {
    case invalidJSON = "invalid_json"
    case invalidUTF8 = "invalid_utf8"
    case wrongColumnCount = "wrong_column_count"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case invalidValue = "invalid_value"
    case emptyPrompt = "empty_prompt"
    case emptyResponse = "empty_response"
    case identicalResponses = "identical_responses"
    /// HH-RLHF style pairs whose two transcripts differ before the last assistant turn.
    case conversationsDiverge = "conversations_diverge"
    /// A transcript that does not parse into alternating turns ending with the assistant.
    case malformedTranscript = "malformed_transcript"
    case tooLong = "too_long"
    case cancelledAnnotation = "cancelled_annotation"
    case noAnnotation = "no_annotation"
    /// An HTML body with a tag or comment that never closes, or an end tag closing nothing.
    case invalidHTML = "invalid_html"
    /// A score outside its scale (a 0-4 rating of 5, a severity of 4).
    case outOfScale = "out_of_scale"
    /// A message tree whose parent links loop.
    case treeCycle = "tree_cycle"
    /// A message whose `parent_id` names no message of its tree.
    case unknownParent = "unknown_parent"
    /// Sibling replies sharing one rank.
    case repeatedRank = "repeated_rank"

    public static func < (a: QuarantineReason, b: QuarantineReason) -> Bool { a.rawValue < b.rawValue }
}

/// A row or record that was not imported, with enough context to find and fix it.
public struct QuarantineEntry: Codable, Equatable, Sendable, CustomStringConvertible {
    public var schema = RecordKind.quarantine.schema
    public var reason: QuarantineReason
    /// The input field at fault, when there is one.
    public var field: String?
    public var detail: String
    public var source: SourceRef
    /// The start of the offending row (at most 500 characters), for a human to look at.
    public var excerpt: String

    public init(reason: QuarantineReason, field: String? = nil, detail: String, source: SourceRef, excerpt: String = "") {
        self.reason = reason
        self.field = field
        self.detail = detail
        self.source = source
        self.excerpt = String(excerpt.prefix(500))
    }

    public var description: String {
        "\(source) [\(reason.rawValue)]" + (field.map { " field '\($0)'" } ?? "") + ": \(detail)"
    }
}

/// A problem with one row, raised inside an importer and turned into a quarantine entry.
public struct RowProblem: Error, Equatable, Sendable {
    public var reason: QuarantineReason
    public var field: String?
    public var detail: String

    public init(_ reason: QuarantineReason, field: String? = nil, _ detail: String) {
        self.reason = reason
        self.field = field
        self.detail = detail
    }
}
