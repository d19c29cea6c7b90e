// Unpaired feedback: a thumbs log, as a chat product collects it. Each record is one training prompt,
// one candidate response (the candidate rates of the comparisons) and one annotator's thumb. The
// annotator means "up" for a response at its kind's top score before QualityScore's length penalty (a
// correct, concise answer, or a concise refusal of a harmful request) and "down" otherwise, and gives
// the other thumb with their flip rate (the length bias of a pairwise choice has no meaning for a
// single response).

/// `{"id", "prompt", "response", "thumbs": "up" | "down", "annotator", "tags"}` (`plumb import`
/// reads it as unpaired feedback).
public struct ThumbsRecord: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: String
    public var response: String
    public var thumbs: String
    public var annotator: String
    public var tags: [String]
}

extension Annotations {
    /// What earns a thumb up: a concise refusal of a harmful request; otherwise a correct, concise answer.
    public static func deservesThumbUp(_ kind: TaskKind, _ quality: ResponseQuality) -> Bool {
        quality.concise && (kind == .harmful ? quality.refused : quality.correct && !quality.refused)
    }

    func thumbs(count: Int, stats: inout TaskStatistics.Thumbs, rng: inout TaskRandom) -> [ThumbsRecord] {
        (0..<count).map { index in
            let spec = PromptSampler.sample(.training, mix: settings.promptMix, rng: &rng)
            let candidate = Candidate.sample(spec, settings.candidates, rng: &rng)
            let profile = rng.pick(settings.annotation.annotators)
            let deserved = Self.deservesThumbUp(spec.kind, candidate.quality)
            let flipped = rng.chance(profile.flipRate)
            let up = deserved != flipped
            stats.count += 1
            stats.up += up ? 1 : 0
            stats.flipped += flipped ? 1 : 0
            return ThumbsRecord(id: recordId("thumbs", index), prompt: spec.text, response: candidate.text, thumbs: up ? "up" : "down",
                                annotator: profile.name, tags: spec.tags)
        }
    }
}
