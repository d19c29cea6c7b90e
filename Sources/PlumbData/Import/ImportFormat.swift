import Foundation
import PlumbStore

/// Every input format `plumb import` reads. Raw values are the `--format` names.
public enum ImportFormat: String, CaseIterable, Codable, Sendable {
    case hhRLHF = "hh-rlhf"
    case trl
    case pkuSafeRLHF = "pku-saferlhf"
    case ultraFeedback = "ultrafeedback"
    case ultraFeedbackBinarized = "ultrafeedback-binarized"
    case shp
    case stackExchangePaired = "stack-exchange-paired"
    case llamaFactory = "llama-factory"
    case csv
    case labelStudio = "label-studio"
    case argilla
    /// Arena battles: Chatbot Arena / LMSYS conversations and the Kaggle competition's CSV.
    case arena
    /// Single responses with safety labels (BeaverTails-style).
    case labelledResponses = "labelled-responses"
    /// A/B answers with an overall and per-aspect preferences.
    case pairwiseAspects = "pairwise-aspects"
    /// The Argilla user-study dump in /work/shared/data/argilla: generations without rankings.
    case argillaStudyResponses = "argilla-study-responses"
    /// The same study's per-annotator rankings without texts (needs `--texts`).
    case argillaStudyRankings = "argilla-study-rankings"
    /// OpenAssistant message trees (oasst1/oasst2 and early tree exports): one tree a row, nested `replies`.
    case openAssistant = "oasst"
    /// OpenAssistant messages one a row (`message_id`, `parent_id`): the flat table and message exports.
    case openAssistantMessages = "oasst-messages"
    /// Stack Exchange preferences: a question with scored answers (`pm_score`, `selected`), HTML bodies.
    case stackExchange = "stack-exchange"
    /// Nectar-style k-wise rankings: a prompt with `answers` each holding a `rank`.
    case nectar
    /// Several annotators' votes per pair in `annotator1..N` (PandaLM: 0 tie, 1 first, 2 second).
    case pandaLM = "pandalm"
    /// Auto-J pairwise: `response 1`, `response 2`, `label` (0 first, 1 second, 2 tie).
    case autoJ = "auto-j"
    /// Per-response ratings on several attributes (HelpSteer: helpfulness, correctness, ... 0-4).
    case ratings
    /// Unpaired feedback: KTO-style `completion` + `label`, or thumbs up / down.
    case feedback
    case alpaca
    case shareGPT = "sharegpt"
    case messages
}

/// What the importer decided a file is, and why.
public struct Detection: Equatable, Sendable, CustomStringConvertible {
    public var format: ImportFormat
    public var reason: String
    /// Canonical field -> the input column it is read from, for formats that read named columns.
    public var columns: [String: String] = [:]

    public init(format: ImportFormat, reason: String, columns: [String: String] = [:]) {
        self.format = format
        self.reason = reason
        self.columns = columns
    }

    public var description: String { "\(format.rawValue) (\(reason))" }
}

/// Per-import settings.
public struct ImportOptions: Sendable {
    /// Canonical field -> input column (`--columns`). For CSV read as pairs or demonstrations
    /// (`prompt`, `chosen`, `rejected`, `response`, `system`, `dimension`, `strength`, `margin`,
    /// `annotator`, `id`, `chosen_safe`, `rejected_safe`); for every other layout each row's mapped
    /// fields are renamed before detection and conversion (e.g. `completion=answer,label=thumb`).
    public var columnMapping: [String: String] = [:]
    /// A Label Studio labelling config (XML text); when nil, `config.xml` beside the file is used,
    /// otherwise left/right bind to the task's two non-prompt text fields in name order.
    public var labelConfig: String?
    /// For the Argilla study rankings: the generations file holding the texts.
    public var textsFile: String?
    /// The dimension for sources that do not say (most of them judge helpfulness).
    public var defaultDimension: PreferenceDimension = .helpfulness
    /// Keep tie votes (arena ties, A/B ties) as tie records (`ties-<split>`) instead of setting them aside.
    public var keepTies = false
    /// A/B sets with per-aspect votes: decide chosen / rejected by this aspect instead of the overall vote.
    public var aspect: String?
    /// OpenAssistant trees: keep only trees whose prompt is in this language (`en`, `de`, ...).
    public var language: String?
    /// Ratings: the weighted sum of attributes that orders responses to one prompt into pairs.
    public var ratingWeights = RatingWeights()
    public var validation = ValidationLimits()
    /// Bounds on each input file: longest row, decompressed bytes, detection prefix.
    public var input = InputLimits()
    public var deduplication = DeduplicationSettings()
    public var splits = SplitFractions()
    /// The directory relative input paths are read from (a pipeline stage's run directory); nil:
    /// the process's working directory. Records, counts and quarantine name each file as given.
    public var directory: String?

    /// Where the file named `path` is read from.
    public func location(_ path: String) -> String {
        guard let directory, !path.hasPrefix("/") else { return path }
        return (directory as NSString).appendingPathComponent(path)
    }

    public init() {}
}

/// Context for converting one row.
struct RowContext {
    var source: SourceRef
    var options: ImportOptions

    /// A stable record id: the file's stem, the line, and a suffix when one row gives several records.
    func id(_ suffix: String? = nil) -> String {
        let base = "\(RowContext.stem(source.file)):\(source.line)"
        return suffix.map { "\(base):\($0)" } ?? base
    }

    static func stem(_ path: String) -> String {
        var name = (path as NSString).lastPathComponent
        while let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
        return name
    }
}

/// Parsers shared by several importers.
enum FieldParsing {
    static func dimension(_ fields: RowFields, key: String = "dimension", default fallback: PreferenceDimension) throws -> PreferenceDimension {
        guard let name = try fields.optionalString(key) else { return fallback }
        guard let dimension = PreferenceDimension(rawValue: name) else {
            throw RowProblem(.invalidValue, field: key, "field '\(key)' is '\(name)', expected helpfulness or safety")
        }
        return dimension
    }

    /// `strength` (a level name) or `margin` (a number); nil when neither is present.
    static func strength(_ fields: RowFields) throws -> PreferenceStrength? {
        if let name = try fields.optionalString("strength"), !name.isEmpty {
            guard let level = PreferenceLevel(rawValue: name) else {
                let names = PreferenceLevel.allCases.map(\.rawValue).joined(separator: ", ")
                throw RowProblem(.invalidValue, field: "strength", "field 'strength' is '\(name)', expected one of \(names)")
            }
            return .level(level)
        }
        if fields.has("margin"), case .string(let text) = try fields.value("margin"), text.isEmpty { return nil }
        return try fields.optionalNumber("margin").map { .margin($0) }
    }

    static func tags(_ fields: RowFields) throws -> [String] {
        fields.has("tags") ? try fields.stringArray("tags") : []
    }

    /// A prompt given as a string (one user turn) or as a message list.
    static func prompt(_ fields: RowFields, key: String) throws -> [Message] {
        switch try fields.value(key) {
        case .string(let text): return [.user(text)]
        case .array: return try fields.messages(key)
        case let other: throw RowProblem(.wrongType, field: key, "field '\(key)' should be a string or a message list, found \(other.typeName)")
        }
    }

    /// A response given as a string, or as a message list holding exactly one assistant message.
    static func response(_ fields: RowFields, key: String) throws -> String {
        switch try fields.value(key) {
        case .string(let text): return text
        case .object(let object): return try RowFields.message(.object(object), field: key).content
        case .array:
            let messages = try fields.messages(key)
            guard messages.count == 1, messages[0].role == .assistant else {
                throw RowProblem(.malformedTranscript, field: key, "field '\(key)' should hold exactly one assistant message, found \(messages.count) message(s)")
            }
            return messages[0].content
        case let other: throw RowProblem(.wrongType, field: key, "field '\(key)' should be a string or a message list, found \(other.typeName)")
        }
    }

    /// Splits two full conversations (TRL implicit prompt) into the shared prompt and the two final
    /// assistant turns. Conversations that differ before the last turn are quarantined.
    static func splitImplicit(chosen: [Message], rejected: [Message]) throws -> (prompt: [Message], chosen: String, rejected: String) {
        guard let lastChosen = chosen.last, lastChosen.role == .assistant else {
            throw RowProblem(.malformedTranscript, field: "chosen", "the chosen conversation does not end with an assistant turn")
        }
        guard let lastRejected = rejected.last, lastRejected.role == .assistant else {
            throw RowProblem(.malformedTranscript, field: "rejected", "the rejected conversation does not end with an assistant turn")
        }
        let prompt = Array(chosen.dropLast())
        guard prompt == Array(rejected.dropLast()) else {
            throw RowProblem(.conversationsDiverge, "chosen and rejected conversations differ before the last assistant turn")
        }
        return (prompt, lastChosen.content, lastRejected.content)
    }
}
