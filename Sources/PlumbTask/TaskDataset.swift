// Everything one `plumb task generate` run produces, in memory, with counts of what the generator
// planted by construction (the oracle re-measures these from the written text in the tests).

public struct TaskDataset: Sendable {
    public var corpus: [String] = []
    public var sft: [MessageRecord] = []
    public var comparisons: [ComparisonRecord] = []
    public var rankings: [RankingTask] = []
    public var edits: [EditTask] = []
    public var rejectionSamplingPrompts: [MessageRecord] = []
    public var ppoPrompts: [MessageRecord] = []
    public var validationPrompts: [MessageRecord] = []
    public var evalPrompts: [MessageRecord] = []
    public var rewardEval: [ComparisonRecord] = []
    /// Two labelled candidates per held-out prompt (safety labels from the ground truth).
    public var labelledResponses: [LabelledResponseRecord] = []
    public var statistics = TaskStatistics()
}

/// What the generator planted, counted as it went.
public struct TaskStatistics: Codable, Equatable, Sendable {
    public struct SFT: Codable, Equatable, Sendable {
        public var helpfulness = 0, wrongAnswers = 0, rambling = 0
        public var harmful = 0, harmfulCompliance = 0
        public var borderline = 0, overRefusals = 0
    }

    public struct Comparisons: Codable, Equatable, Sendable {
        public var count = 0
        /// Labels that prefer the response with the lower true score.
        public var flipped = 0
        /// Sum over comparisons of the annotator's flip probability: the expected number of flips.
        public var expectedFlips = 0.0
        public var perStrength: [String: Int] = [:]
        public var perAnnotator: [String: Int] = [:]
        public var tiedCandidateSets = 0
    }

    public var sft = SFT()
    public var comparisons = Comparisons()
    /// Eval prompts asked for but not drawn because the held-out prompt space ran out of distinct prompts.
    public var evalPromptsShort = 0
}
