import Foundation

/// A pairwise preference: for `prompt`, `chosen` is preferred to `rejected` on `dimension`.
///
/// JSON form: `strength` holds a level name when the strength is a level, `margin` holds the
/// number when it is a margin; both are absent when the source gives no strength. The optional
/// fields after `annotator` are metadata some sources carry (`ComparisonDetails`).
public struct Comparison: Codable, Equatable, Sendable {
    public var schema = RecordKind.comparison.schema
    public var id: String
    public var prompt: Prompt
    public var chosen: String
    public var rejected: String
    public var dimension: PreferenceDimension
    public var strength: PreferenceStrength?
    /// Per-response safety labels, when the source gives them (PKU-SafeRLHF, the built-in task).
    public var chosenSafe: Bool?
    public var rejectedSafe: Bool?
    public var annotator: String?
    /// Multi-turn battles, per-aspect votes, model names, justifications, ties.
    public var details = ComparisonDetails()
    public var source: SourceRef

    public init(id: String, prompt: Prompt, chosen: String, rejected: String, dimension: PreferenceDimension = .helpfulness,
                strength: PreferenceStrength? = nil, chosenSafe: Bool? = nil, rejectedSafe: Bool? = nil,
                annotator: String? = nil, source: SourceRef) {
        self.id = id
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.dimension = dimension
        self.strength = strength
        self.chosenSafe = chosenSafe
        self.rejectedSafe = rejectedSafe
        self.annotator = annotator
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case schema, id, prompt, chosen, rejected, dimension, strength, margin
        case chosenSafe = "chosen_safe", rejectedSafe = "rejected_safe", annotator, source
    }

    /// The conversation the chosen response answers: the prompt, then the chosen side's own earlier turns.
    public var chosenPrompt: [Message] { prompt.messages + (details.chosenHistory ?? []) }
    /// The conversation the rejected response answers.
    public var rejectedPrompt: [Message] { prompt.messages + (details.rejectedHistory ?? []) }
    /// A tie record (kept with `--keep-ties`): neither response is preferred.
    public var isTie: Bool { details.tie != nil }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(String.self, forKey: .schema)
        guard schema == RecordKind.comparison.schema else {
            throw DecodingError.dataCorruptedError(forKey: .schema, in: c,
                debugDescription: "expected schema \(RecordKind.comparison.schema), found \(schema)")
        }
        id = try c.decode(String.self, forKey: .id)
        prompt = try c.decode(Prompt.self, forKey: .prompt)
        chosen = try c.decode(String.self, forKey: .chosen)
        rejected = try c.decode(String.self, forKey: .rejected)
        dimension = try c.decode(PreferenceDimension.self, forKey: .dimension)
        if let level = try c.decodeIfPresent(PreferenceLevel.self, forKey: .strength) {
            strength = .level(level)
        } else if let margin = try c.decodeIfPresent(Double.self, forKey: .margin) {
            strength = .margin(margin)
        }
        chosenSafe = try c.decodeIfPresent(Bool.self, forKey: .chosenSafe)
        rejectedSafe = try c.decodeIfPresent(Bool.self, forKey: .rejectedSafe)
        annotator = try c.decodeIfPresent(String.self, forKey: .annotator)
        details = try ComparisonDetails(from: decoder)
        source = try c.decode(SourceRef.self, forKey: .source)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(id, forKey: .id)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(chosen, forKey: .chosen)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(dimension, forKey: .dimension)
        switch strength {
        case .level(let level): try c.encode(level, forKey: .strength)
        case .margin(let margin): try c.encode(margin, forKey: .margin)
        case nil: break
        }
        try c.encodeIfPresent(chosenSafe, forKey: .chosenSafe)
        try c.encodeIfPresent(rejectedSafe, forKey: .rejectedSafe)
        try c.encodeIfPresent(annotator, forKey: .annotator)
        try details.encode(to: encoder)
        try c.encode(source, forKey: .source)
    }
}
