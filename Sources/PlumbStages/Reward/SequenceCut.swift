// The one rule by which a `prompt + response + [EOS]` sequence too long for a model's window is cut,
// shared by the reward model's pairs (RewardPairs), the policy's likelihood (ResponseLikelihood: DPO,
// its reference, `rm eval --scoring likelihood`, PPO) and their truncation counts:
//   - keep the sequence's LAST tokens: the prompt's start goes first, then (if the response alone is
//     longer than the window) the response's start; the response's end and the EOS are never cut;
//   - the number of tokens kept is what the window covers: `seqLen` for a scorer, which reads a
//     value at every position it is given (the reward model reads the EOS), and `seqLen + 1` for
//     next-token prediction, whose last token is only a target. With the same cover the two paths
//     keep the same tokens;
//   - a sequence is counted as truncated when anything was cut.
import PlumbData

public enum SequenceCut {
    /// What a window of `seqLen` positions is used for.
    public enum Use: Sendable {
        /// One value per position, the sequence's own tokens (the reward model).
        case score
        /// Each position predicts the next token (a policy's log-likelihood).
        case nextToken
    }

    /// Tokens of the sequence a window of `seqLen` positions covers for `use`.
    public static func cover(seqLen: Int, use: Use) -> Int {
        switch use {
        case .score: return seqLen
        case .nextToken: return seqLen + 1
        }
    }

    /// `example` cut to its last `cover(seqLen:use:)` tokens, its prompt count moved with the cut
    /// (0 when the whole prompt was cut), and how many tokens were cut from its start.
    public static func fit(_ example: TokenizedExample, seqLen: Int, use: Use) -> (example: TokenizedExample, cut: Int) {
        let cut = max(0, example.tokens.count - cover(seqLen: seqLen, use: use))
        guard cut > 0 else { return (example, 0) }
        return (TokenizedExample(tokens: Array(example.tokens[cut...]), promptCount: max(0, example.promptCount - cut)), cut)
    }
}
