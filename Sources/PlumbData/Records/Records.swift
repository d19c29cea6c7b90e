import Foundation

/// Record kinds and their schema versions. Every record's JSON line carries a top-level
/// `"schema": "<kind>/<version>"` field.
public enum RecordKind: String, Codable, CaseIterable, Sendable {
    case prompt
    case demonstration
    case comparison
    case ranking
    case edit
    case labelledResponse = "labelled-response"
    case feedback
    case rating
    case quarantine

    public var version: Int { 1 }
    public var schema: String { "\(rawValue)/\(version)" }
}

/// A prompt on its own (prompt sets for sampling, PPO and evaluation).
public struct PromptRecord: Codable, Equatable, Sendable {
    public var schema = RecordKind.prompt.schema
    public var prompt: Prompt
    public var source: SourceRef

    public init(prompt: Prompt, source: SourceRef) {
        self.prompt = prompt
        self.source = source
    }
}

/// Where a demonstration comes from.
public enum DemonstrationOrigin: String, Codable, Sendable {
    /// Written as a demonstration by the source (Alpaca, ShareGPT, message lists).
    case imported
    /// A human's correction of a model response (an `Edit`): gold data.
    case edit
    /// The best of a policy's k samples by the combined reward (`plumb rs`).
    case rejectionSampling = "rejection-sampling"
}

/// A prompt with a good response, for supervised fine-tuning.
public struct Demonstration: Codable, Equatable, Sendable {
    public var schema = RecordKind.demonstration.schema
    public var id: String
    public var prompt: Prompt
    public var response: String
    public var origin: DemonstrationOrigin
    public var annotator: String?
    public var source: SourceRef
    /// The rejection-sampling round that produced it (origin `rejection-sampling`).
    public var round: Int?

    public init(id: String, prompt: Prompt, response: String, origin: DemonstrationOrigin = .imported,
                annotator: String? = nil, source: SourceRef, round: Int? = nil) {
        self.id = id
        self.prompt = prompt
        self.response = response
        self.origin = origin
        self.annotator = annotator
        self.source = source
        self.round = round
    }
}

/// k responses to one prompt in order of preference. `ranks[i]` is the rank of `responses[i]`:
/// 1 is best, equal ranks are ties. Sources that score the responses (Stack Exchange votes) keep
/// the scores, and the pairs derived from the ranking then carry the score gap as their margin;
/// sources that label them (OpenAssistant's quality, toxicity, ...) keep the labels per response.
public struct Ranking: Codable, Equatable, Sendable {
    public var schema = RecordKind.ranking.schema
    public var id: String
    public var prompt: Prompt
    public var responses: [String]
    public var ranks: [Int]
    public var dimension: PreferenceDimension
    public var annotator: String?
    /// Per response, the source's score (higher is better), when it gives one.
    public var scores: [Double]?
    /// Per response, the source's labels (name -> value), when it gives them.
    public var labels: [[String: Double]]?
    public var source: SourceRef

    public init(id: String, prompt: Prompt, responses: [String], ranks: [Int], dimension: PreferenceDimension = .helpfulness,
                annotator: String? = nil, scores: [Double]? = nil, labels: [[String: Double]]? = nil, source: SourceRef) {
        self.id = id
        self.prompt = prompt
        self.responses = responses
        self.ranks = ranks
        self.dimension = dimension
        self.annotator = annotator
        self.scores = scores
        self.labels = labels
        self.source = source
    }
}

/// A human's correction of a model response.
public struct Edit: Codable, Equatable, Sendable {
    public var schema = RecordKind.edit.schema
    public var id: String
    public var prompt: Prompt
    public var original: String
    public var edited: String
    public var annotator: String?
    public var source: SourceRef

    public init(id: String, prompt: Prompt, original: String, edited: String, annotator: String? = nil, source: SourceRef) {
        self.id = id
        self.prompt = prompt
        self.original = original
        self.edited = edited
        self.annotator = annotator
        self.source = source
    }
}

/// Any canonical record an importer produces.
public enum Record: Equatable, Sendable {
    case prompt(PromptRecord)
    case demonstration(Demonstration)
    case comparison(Comparison)
    case ranking(Ranking)
    case edit(Edit)
    case labelledResponse(LabelledResponse)
    case feedback(Feedback)
    case rating(Rating)

    public var kind: RecordKind {
        switch self {
        case .prompt: return .prompt
        case .demonstration: return .demonstration
        case .comparison: return .comparison
        case .ranking: return .ranking
        case .edit: return .edit
        case .labelledResponse: return .labelledResponse
        case .feedback: return .feedback
        case .rating: return .rating
        }
    }

    public var source: SourceRef {
        switch self {
        case .prompt(let r): return r.source
        case .demonstration(let r): return r.source
        case .comparison(let r): return r.source
        case .ranking(let r): return r.source
        case .edit(let r): return r.source
        case .labelledResponse(let r): return r.source
        case .feedback(let r): return r.source
        case .rating(let r): return r.source
        }
    }

    public var prompt: Prompt {
        switch self {
        case .prompt(let r): return r.prompt
        case .demonstration(let r): return r.prompt
        case .comparison(let r): return r.prompt
        case .ranking(let r): return r.prompt
        case .edit(let r): return r.prompt
        case .labelledResponse(let r): return r.prompt
        case .feedback(let r): return r.prompt
        case .rating(let r): return r.prompt
        }
    }

    /// The responses this record carries, in record order.
    public var responses: [String] {
        switch self {
        case .prompt: return []
        case .demonstration(let r): return [r.response]
        case .comparison(let r): return [r.chosen, r.rejected]
        case .ranking(let r): return r.responses
        case .edit(let r): return [r.original, r.edited]
        case .labelledResponse(let r): return [r.response]
        case .feedback(let r): return [r.response]
        case .rating(let r): return [r.response]
        }
    }
}

extension Record: Encodable {
    /// Encodes the record's own form (with its `schema` field).
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .prompt(let r): try r.encode(to: encoder)
        case .demonstration(let r): try r.encode(to: encoder)
        case .comparison(let r): try r.encode(to: encoder)
        case .ranking(let r): try r.encode(to: encoder)
        case .edit(let r): try r.encode(to: encoder)
        case .labelledResponse(let r): try r.encode(to: encoder)
        case .feedback(let r): try r.encode(to: encoder)
        case .rating(let r): try r.encode(to: encoder)
        }
    }
}
