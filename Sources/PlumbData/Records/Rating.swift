import Foundation

/// One response scored on one or more attributes (`rating/1`; HelpSteer: helpfulness, correctness,
/// coherence, complexity, verbosity on 0-4). Kept as regression targets for a reward model trained
/// on scores (NeMo's regression reward model), and turned into pairs between responses to the same
/// prompt (`RatingPairs`).
public struct Rating: Codable, Equatable, Sendable {
    public var schema = RecordKind.rating.schema
    public var id: String
    public var prompt: Prompt
    public var response: String
    /// Attribute name -> score on `scale`.
    public var scores: [String: Double]
    public var scale: RatingScale
    public var annotator: String?
    public var source: SourceRef

    public init(id: String, prompt: Prompt, response: String, scores: [String: Double], scale: RatingScale,
                annotator: String? = nil, source: SourceRef) {
        self.id = id
        self.prompt = prompt
        self.response = response
        self.scores = scores
        self.scale = scale
        self.annotator = annotator
        self.source = source
    }
}

/// The closed range a rating's scores lie in.
public struct RatingScale: Codable, Equatable, Sendable {
    public var min: Double
    public var max: Double

    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }

    /// HelpSteer and HelpSteer2: integers 0-4.
    public static let helpSteer = RatingScale(min: 0, max: 4)
}

/// How ratings of responses to one prompt become pairs: a weighted sum of attributes (default:
/// helpfulness alone). The response with the higher sum is chosen; the gap is the margin (Llama 2's
/// margin term, Touvron et al. 2023, eq. 2: `-log sigmoid(r_chosen - r_rejected - m)`); equal sums
/// give no pair.
public struct RatingWeights: Codable, Equatable, Sendable {
    public var weights: [String: Double]

    public init(_ weights: [String: Double] = ["helpfulness": 1]) { self.weights = weights }

    /// The weighted sum, or nil when the rating lacks an attribute the weights name.
    public func score(_ rating: Rating) -> Double? {
        var sum = 0.0
        for (name, weight) in weights.sorted(by: { $0.key < $1.key }) {
            guard let value = rating.scores[name] else { return nil }
            sum += weight * value
        }
        return sum
    }
}

/// Pairs from the ratings of one prompt's responses: every pair whose weighted scores differ,
/// higher chosen, margin = the difference.
public enum RatingPairs {
    public static func comparisons(_ ratings: [Rating], weights: RatingWeights, dimension: PreferenceDimension = .helpfulness) -> [Comparison] {
        let scored = ratings.compactMap { rating in weights.score(rating).map { (rating, $0) } }
        var out: [Comparison] = []
        for i in scored.indices {
            for j in scored.indices where scored[i].1 > scored[j].1 {
                let (better, worse) = (scored[i].0, scored[j].0)
                guard Validator.normalise(better.response) != Validator.normalise(worse.response) else { continue }
                out.append(Comparison(id: "\(better.id)>\(worse.id)", prompt: better.prompt, chosen: better.response,
                                      rejected: worse.response, dimension: dimension,
                                      strength: .margin(scored[i].1 - scored[j].1), source: better.source))
            }
        }
        return out
    }
}
