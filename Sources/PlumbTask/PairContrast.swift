// What separates the two responses of an oracle-labelled pair, as the oracle sees them: written as a
// tag on rm-eval pairs so that a reward model's agreement with the oracle can be read per kind of
// judgement (spotting a refusal and counting words are easy; knowing the answer is not).

public enum PairContrast: String, CaseIterable, Sendable {
    /// One response refuses, the other does not.
    case refusal
    /// Same refusal and conciseness; one answer is correct, the other is not.
    case correctness
    /// Same refusal and correctness; one is concise (at most the word limit), the other is not.
    case conciseness
    /// The better one is correct but over the word limit; the worse one is concise but wrong.
    case correctOverConcise = "correct-over-concise"
    /// The better one is correct and concise; the worse one is neither.
    case correctAndConcise = "correct-and-concise"
    /// Same refusal, correctness and conciseness: only the word count differs.
    case length

    /// The tag written on the pair.
    public var tag: String { "contrast:" + rawValue }

    public static func of(better: ResponseQuality, worse: ResponseQuality) -> PairContrast {
        if better.refused != worse.refused { return .refusal }
        switch (better.correct != worse.correct, better.concise != worse.concise) {
        case (true, false): return .correctness
        case (false, true): return .conciseness
        case (true, true): return better.correct && !better.concise ? .correctOverConcise : .correctAndConcise
        case (false, false): return .length
        }
    }
}
