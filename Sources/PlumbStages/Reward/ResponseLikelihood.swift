// The policy's log-likelihood of responses, no gradients: log pi(y | x) = sum over the response's
// tokens (its EOS included) of log p(y_t | x, y_<t), the quantity DPO compares (METHODS.md section 6;
// DPO eq. 7's implicit reward is beta * (log pi(y|x) - log pi_ref(y|x))).
//
// Each example (prompt + response + EOS, through the chat template) runs through the model alone
// (SequenceForward: its value is a function of the example, whatever it is computed beside); each
// token predicts the next, and only the response's tokens are targets.
import PlumbData
import PlumbModel
import PlumbTensor

public final class ResponseLikelihood {
    let padToken: Int32
    let sequences: SequenceForward   // with LM logits

    public init(model: LlamaModel, seqLen: Int, padToken: Int32) throws {
        guard model.heads.contains(.lm) else { throw StageError("response likelihood: the model has no LM head") }
        self.padToken = padToken
        sequences = try SequenceForward(model: model, maxLength: seqLen, logits: true)
    }

    /// The training example of a prompt + response: tokens[..<n-1] predicting tokens[1...], targets
    /// only where the predicted token belongs to the response. Cut by SequenceCut's rule when longer
    /// (its last `seqLen + 1` tokens: the response's end is kept; the prompt's start is cut first).
    public static func example(_ tokenized: TokenizedExample, seqLen: Int) throws -> BatchLayout.Example {
        let fitted = SequenceCut.fit(tokenized, seqLen: seqLen, use: .nextToken).example
        let kept = fitted.tokens
        // Index in `kept` of the first response token; at least 1, as the first token predicts nothing.
        let firstTarget = max(fitted.promptCount, 1)
        let targets = (1..<kept.count).map { $0 >= firstTarget ? kept[$0] : CrossEntropy.ignoreIndex }
        return try BatchLayout.Example(tokens: Array(kept.dropLast()), targets: targets)
    }

    /// log pi(y | x) and the number of response tokens of every example, in order. `centred` adds
    /// each token's entropy H_t (sum_t [log p(y_t | ...) + H_t], CentredLogProbs).
    public func logLikelihoods(_ examples: [BatchLayout.Example], centred: Bool = false) throws -> [(logProb: Double, tokens: Int)] {
        if let i = examples.firstIndex(where: { $0.tokens.isEmpty || $0.tokens.count > sequences.maxLength }) {
            throw StageError("response likelihood: example \(i) has \(examples[i].tokens.count) tokens; it must have 1...\(sequences.maxLength)")
        }
        let model = sequences.model
        return try sequences.map(examples, padToken: padToken) { acts, layout in
            let tokenLogProbs = try model.tokenLogProbs(acts, centred: centred)   // (T), 0 where ignored
            let span = layout.spans[0]
            let sum = layout.flatRange(of: span).reduce(0.0) { $0 + Double(tokenLogProbs.pointer[$1]) }
            return (sum, layout.targetCount(of: span))
        }
    }
}
