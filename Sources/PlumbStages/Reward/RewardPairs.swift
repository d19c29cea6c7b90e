// Comparisons in token space for the reward model: each response is encoded with its prompt through
// the chat template, `prompt + response + [EOS]`; the reward is read at the last token (the EOS).
// A sequence longer than the model's window keeps its LAST `seqLen` tokens (the response's end and
// the EOS, where the score is read, are never cut; the start of the prompt is), and is counted.
import PlumbData

/// One comparison ready for the reward model.
public struct RewardPair: Sendable, Equatable {
    public var chosen: [Int32]
    public var rejected: [Int32]
    /// m in -log sigmoid(r_c - r_r - m), from the margin table (or the record's own margin).
    public var margin: Float
    /// Index of the comparison in the list that was encoded.
    public var record: Int
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
            let chosen = try sequence(prompt: c.prompt.messages, response: c.chosen, templated: templated, seqLen: seqLen, truncated: &set.truncated)
            let rejected = try sequence(prompt: c.prompt.messages, response: c.rejected, templated: templated, seqLen: seqLen, truncated: &set.truncated)
            set.pairs.append(RewardPair(chosen: chosen, rejected: rejected, margin: margins.margin(for: c.strength), record: i))
        }
        return set
    }

    /// `prompt + response + [EOS]`, cut to its last `seqLen` tokens.
    public static func sequence(prompt: [Message], response: String, templated: TemplatedTokenizer, seqLen: Int,
                                truncated: inout Int) throws -> [Int32] {
        let tokens = try templated.encode(prompt: prompt, response: response).tokens
        guard tokens.count > seqLen else { return tokens }
        truncated += 1
        return Array(tokens.suffix(seqLen))
    }
}
