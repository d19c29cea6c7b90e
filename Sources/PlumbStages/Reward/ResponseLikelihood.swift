// The policy's log-likelihood of responses, no gradients: log pi(y | x) = sum over the response's
// tokens (its EOS included) of log p(y_t | x, y_<t), the quantity DPO compares (METHODS.md section 6;
// DPO eq. 7's implicit reward is beta * (log pi(y|x) - log pi_ref(y|x))).
//
// Examples (prompt + response + EOS, through the chat template) are packed in order into `rows` x
// `seqLen` batches with block-diagonal attention and restarting positions, so packing never
// changes a value; each token predicts the next, and only the response's tokens are targets.
import PlumbData
import PlumbModel
import PlumbTensor

public final class ResponseLikelihood {
    let model: LlamaModel
    let rows: Int
    let seqLen: Int
    let padToken: Int32
    let activations: LlamaActivations   // (rows, seqLen) with LM logits

    public init(model: LlamaModel, rows: Int, seqLen: Int, padToken: Int32) throws {
        guard model.heads.contains(.lm) else { throw StageError("response likelihood: the model has no LM head") }
        self.model = model
        self.rows = rows
        self.seqLen = seqLen
        self.padToken = padToken
        activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen)
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
        if let i = examples.firstIndex(where: { $0.tokens.isEmpty || $0.tokens.count > seqLen }) {
            throw StageError("response likelihood: example \(i) has \(examples[i].tokens.count) tokens; it must have 1...\(seqLen)")
        }
        var out: [(logProb: Double, tokens: Int)] = []
        out.reserveCapacity(examples.count)
        for range in RewardBatches.consecutiveBatches(lengths: examples.map(\.tokens.count), rows: rows, seqLen: seqLen) {
            let batch = try BatchLayout.packed(Array(examples[range]), batchSize: rows, seqLen: seqLen, padToken: padToken)
            try model.forward(batch, activations)
            let tokenLogProbs = try model.tokenLogProbs(activations, centred: centred)   // (rows * seqLen), 0 where ignored
            for span in batch.spans {   // ignored tokens hold 0
                let sum = batch.flatRange(of: span).reduce(0.0) { $0 + Double(tokenLogProbs.pointer[$1]) }
                out.append((sum, batch.targetCount(of: span)))
            }
        }
        return out
    }
}
