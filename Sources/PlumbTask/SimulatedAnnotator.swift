// Simulated annotators (AlpacaFarm's idea): each identity sees the true scores of two responses and
// prefers the better one, except that with some probability it flips (label noise), more often in
// one direction of length for the length-biased identities. The strength of a preference follows
// Llama 2's four levels, read off a noisy perception of the score gap.

import Foundation

/// Llama 2's preference strengths, as TRL-style files spell them.
public enum PreferenceStrength: String, CaseIterable, Codable, Sendable {
    case significantlyBetter = "significantly_better"
    case better
    case slightlyBetter = "slightly_better"
    case negligiblyBetter = "negligibly_better"

    /// Strength for a perceived score gap (scores range over about 3 points; see QualityScore).
    public static func forGap(_ gap: Double) -> PreferenceStrength {
        if gap >= 1.5 { return .significantlyBetter }
        if gap >= 0.8 { return .better }
        if gap >= 0.3 { return .slightlyBetter }
        return .negligiblyBetter
    }
}

public struct AnnotatorProfile: Codable, Equatable, Sendable {
    public var name: String
    /// The Label Studio user id written as `completed_by`.
    public var userId: Int
    /// Probability of preferring the worse response when both have the same length.
    public var flipRate: Double
    /// Added to the flip rate when the better response is the shorter one, subtracted when it is the
    /// longer one: positive for annotators who like long answers, negative for those who like short ones.
    public var lengthBias: Double

    /// Five identities whose flip rates average 0.25 when length favours neither side (AlpacaFarm's ~25%).
    public static let standardPanel = [
        AnnotatorProfile(name: "careful", userId: 1, flipRate: 0.15, lengthBias: 0),
        AnnotatorProfile(name: "typical", userId: 2, flipRate: 0.25, lengthBias: 0),
        AnnotatorProfile(name: "hasty", userId: 3, flipRate: 0.35, lengthBias: 0),
        AnnotatorProfile(name: "likes-long", userId: 4, flipRate: 0.25, lengthBias: 0.15),
        AnnotatorProfile(name: "likes-short", userId: 5, flipRate: 0.25, lengthBias: -0.1),
    ]

    /// Probability that this annotator prefers the worse of two responses.
    public func disagreementProbability(betterWords: Int, worseWords: Int) -> Double {
        if betterWords == worseWords { return flipRate }
        return betterWords < worseWords ? flipRate + lengthBias : flipRate - lengthBias
    }
}

/// One response as an annotator sees it: its true score, length and safety.
public struct AnnotatedResponse: Sendable {
    public var score: Double
    public var wordCount: Int
    public var safe: Bool

    public init(score: Double, wordCount: Int, safe: Bool) {
        self.score = score
        self.wordCount = wordCount
        self.safe = safe
    }
}

public struct PairJudgement: Sendable {
    /// True when the annotator chose the first response.
    public var choseFirst: Bool
    public var strength: PreferenceStrength
    public var firstSafeLabel: Bool
    public var secondSafeLabel: Bool
}

public enum SimulatedAnnotator {
    /// A noisy pairwise judgement of `first` against `second` (their true scores must differ).
    /// Agreeing judgements perceive the true gap plus N(0, strengthNoise); flipped ones perceive only
    /// noise, so wrong labels are mostly weak ones, as in Llama 2's Table 8.
    public static func judge(_ profile: AnnotatorProfile, _ first: AnnotatedResponse, _ second: AnnotatedResponse,
                             settings: TaskSettings.Annotation, rng: inout TaskRandom) -> PairJudgement {
        let firstIsBetter = first.score > second.score
        let (better, worse) = firstIsBetter ? (first, second) : (second, first)
        let flips = rng.chance(profile.disagreementProbability(betterWords: better.wordCount, worseWords: worse.wordCount))
        let noise = settings.strengthNoise * rng.gaussian()
        let perceived = flips ? abs(noise) : max(0, better.score - worse.score + noise)
        return PairJudgement(choseFirst: firstIsBetter != flips, strength: .forGap(perceived),
                             firstSafeLabel: safetyLabel(first.safe, settings: settings, rng: &rng),
                             secondSafeLabel: safetyLabel(second.safe, settings: settings, rng: &rng))
    }

    /// A judgement of any two responses, as an annotator gives one on a policy's samples, where two
    /// different texts often score the same: equal true scores are a fair coin, perceived as noise
    /// alone (so mostly `negligibly_better`, Llama 2's "unsure"); different ones as `judge` gives them.
    public static func judgeAny(_ profile: AnnotatorProfile, _ first: AnnotatedResponse, _ second: AnnotatedResponse,
                                settings: TaskSettings.Annotation, rng: inout TaskRandom) -> PairJudgement {
        guard abs(first.score - second.score) < 1e-9 else { return judge(profile, first, second, settings: settings, rng: &rng) }
        let choseFirst = rng.chance(0.5)
        let perceived = abs(settings.strengthNoise * rng.gaussian())
        return PairJudgement(choseFirst: choseFirst, strength: .forGap(perceived),
                             firstSafeLabel: safetyLabel(first.safe, settings: settings, rng: &rng),
                             secondSafeLabel: safetyLabel(second.safe, settings: settings, rng: &rng))
    }

    /// A safety label that is wrong with probability `safetyLabelNoise`.
    static func safetyLabel(_ safe: Bool, settings: TaskSettings.Annotation, rng: inout TaskRandom) -> Bool {
        rng.chance(settings.safetyLabelNoise) ? !safe : safe
    }

    /// Indices of `scores` from best to worst as perceived with N(0, noise) added to each score.
    /// Two responses with true gap g are ordered correctly with probability Phi(g / (noise * sqrt 2)).
    public static func rank(_ scores: [Double], noise: Double, rng: inout TaskRandom) -> [Int] {
        let perceived = scores.map { $0 + noise * rng.gaussian() }
        return perceived.indices.sorted { perceived[$0] != perceived[$1] ? perceived[$0] > perceived[$1] : $0 < $1 }
    }

    /// Probability that a ranking annotator orders a pair with true gap `gap` correctly.
    public static func rankingAgreementProbability(gap: Double, noise: Double) -> Double {
        0.5 * (1 + erf(abs(gap) / (noise * 2.0.squareRoot()) / 2.0.squareRoot()))
    }
}
