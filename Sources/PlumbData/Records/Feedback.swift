import Foundation

/// Where an unpaired judgement comes from.
public enum FeedbackOrigin: String, Codable, CaseIterable, Sendable {
    /// KTO-style `prompt` / `completion` / `label` (true = desirable).
    case label
    /// A chat product's thumbs up or down (`up`/`down`, `+1`/`-1`, ...).
    case thumbs
}

/// One response judged on its own, desirable or not, with no pair (`feedback/1`): what KTO
/// (Ethayarajh et al. 2024) trains on. A comparison gives one desirable and one undesirable example
/// of the same kind, so a later `plumb kto` can mix paired and unpaired data. Safety labels on
/// single responses stay `labelled-response/1` (the safety gate is evaluated on them); a KTO stage
/// reads them as feedback on the safety dimension (safe = desirable).
public struct Feedback: Codable, Equatable, Sendable {
    public var schema = RecordKind.feedback.schema
    public var id: String
    public var prompt: Prompt
    public var response: String
    public var desirable: Bool
    public var dimension: PreferenceDimension
    public var origin: FeedbackOrigin
    public var annotator: String?
    public var source: SourceRef

    public init(id: String, prompt: Prompt, response: String, desirable: Bool, dimension: PreferenceDimension = .helpfulness,
                origin: FeedbackOrigin, annotator: String? = nil, source: SourceRef) {
        self.id = id
        self.prompt = prompt
        self.response = response
        self.desirable = desirable
        self.dimension = dimension
        self.origin = origin
        self.annotator = annotator
        self.source = source
    }
}
