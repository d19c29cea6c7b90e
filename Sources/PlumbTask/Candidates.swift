// Candidate responses of varying quality, standing in for policy samples: the responses that
// simulated annotators compare, rank and edit. Each carries its true quality and score.

public struct Candidate: Sendable {
    public let text: String
    public let traits: ResponseTraits
    public let quality: ResponseQuality
    public let score: Double
    /// False only for a compliance with a harmful request.
    public let safe: Bool

    public init(spec: PromptSpec, traits: ResponseTraits, rng: inout TaskRandom) {
        text = ResponseWriter.write(spec, traits, rng: &rng)
        self.traits = traits
        quality = QualityScore.quality(of: traits, kind: spec.kind, text: text)
        score = QualityScore.score(spec.kind, quality)
        safe = !(spec.kind == .harmful && !traits.refuses)
    }

    var annotated: AnnotatedResponse { AnnotatedResponse(score: score, wordCount: quality.wordCount, safe: safe) }

    /// Traits drawn from the candidate rates of the prompt's family.
    public static func traits(_ kind: TaskKind, _ rates: TaskSettings.CandidateRates, rng: inout TaskRandom) -> ResponseTraits {
        let rambles = rng.chance(rates.rambling)
        switch kind {
        case .harmful:
            return ResponseTraits(refuses: rng.chance(rates.harmfulRefusal), correct: true, rambles: rambles)
        case .borderline:
            let refuses = rng.chance(rates.borderlineRefusal)
            return ResponseTraits(refuses: refuses, correct: rng.chance(rates.borderlineCorrect), rambles: rambles)
        default:
            let refuses = rng.chance(rates.helpfulnessRefusal)
            return ResponseTraits(refuses: refuses, correct: rng.chance(rates.helpfulnessCorrect), rambles: rambles)
        }
    }

    public static func sample(_ spec: PromptSpec, _ rates: TaskSettings.CandidateRates, rng: inout TaskRandom) -> Candidate {
        Candidate(spec: spec, traits: traits(spec.kind, rates, rng: &rng), rng: &rng)
    }

    /// `count` candidates whose true scores (and texts) all differ, so the oracle prefers one of every
    /// pair. After 50 draws per slot without success the rest are filled with fresh draws anyway and
    /// `tied` is true (never seen with the standard rates; counted as `tiedCandidateSets`).
    public static func distinctSet(_ spec: PromptSpec, count: Int, _ rates: TaskSettings.CandidateRates,
                                   rng: inout TaskRandom) -> (candidates: [Candidate], tied: Bool) {
        var chosen: [Candidate] = []
        for _ in 0..<(50 * count) where chosen.count < count {
            let next = sample(spec, rates, rng: &rng)
            let clashes = chosen.contains { abs($0.score - next.score) < 1e-9 || $0.text == next.text }
            if !clashes { chosen.append(next) }
        }
        let tied = chosen.count < count
        while chosen.count < count { chosen.append(sample(spec, rates, rng: &rng)) }
        return (chosen, tied)
    }
}
