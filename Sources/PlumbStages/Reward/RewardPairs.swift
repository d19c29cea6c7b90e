// Comparisons in token space for the reward model: each response is encoded with its prompt through
// the chat template, `prompt + response + [EOS]`; the reward is read at the last token (the EOS).
// A sequence longer than the model's window is cut by SequenceCut's rule (its last `seqLen` tokens:
// the response's end and the EOS, where the score is read, are never cut; the prompt's start is cut
// first), and is counted.
import PlumbData

/// One comparison ready for the reward model.
public struct RewardPair: Sendable, Equatable {
    public var chosen: [Int32]
    public var rejected: [Int32]
    /// Index in `chosen` / `rejected` of the response's first token (after any cut of the prompt);
    /// the likelihood term of the reward (RewardLikelihoodTerm) sums over tokens from there on.
    public var chosenResponseStart = 1
    public var rejectedResponseStart = 1
    /// m in -log sigmoid(r_c - r_r - m), from the margin table (or the record's own margin).
    public var margin: Float
    /// Index of the comparison in the list that was encoded.
    public var record: Int
}

/// One response with its prompt, as the reward model reads it.
public struct RewardSequence: Sendable, Equatable {
    public var tokens: [Int32]
    public var responseStart: Int
}

public struct RewardPairSet: Sendable {
    public var pairs: [RewardPair]
    /// Sequences whose start was cut to fit `seqLen`.
    public var truncated: Int
}

public enum RewardPairs {
    /// Encodes `comparisons` for a model of window `seqLen`.
    public static func encode(_ comparisons: [Comparison], templated: TemplatedTokenizer, seqLen: Int,
                              margins: MarginTable) throws -> RewardPairSet {
        var set = RewardPairSet(pairs: [], truncated: 0)
        set.pairs.reserveCapacity(comparisons.count)
        for (i, c) in comparisons.enumerated() {
            // Each response answers its own side's conversation (multi-turn battles part after the prompt).
            let chosen = try sequence(prompt: c.chosenPrompt, response: c.chosen, templated: templated, seqLen: seqLen, truncated: &set.truncated)
            let rejected = try sequence(prompt: c.rejectedPrompt, response: c.rejected, templated: templated, seqLen: seqLen, truncated: &set.truncated)
            set.pairs.append(RewardPair(chosen: chosen.tokens, rejected: rejected.tokens,
                                        chosenResponseStart: chosen.responseStart, rejectedResponseStart: rejected.responseStart,
                                        margin: margins.margin(for: c.strength), record: i))
        }
        return set
    }

    /// `prompt + response + [EOS]`, cut to its last `seqLen` tokens, and where its response starts.
    public static func sequence(prompt: [Message], response: String, templated: TemplatedTokenizer, seqLen: Int,
                                truncated: inout Int) throws -> RewardSequence {
        let (kept, cut) = SequenceCut.fit(try templated.encode(prompt: prompt, response: response), seqLen: seqLen, use: .score)
        if cut > 0 { truncated += 1 }
        // At least 1: the first token has no prediction (a response cut to its whole window loses its first token's term).
        return RewardSequence(tokens: kept.tokens, responseStart: max(1, kept.promptCount))
    }
}
