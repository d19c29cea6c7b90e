// Training-graph forward passes over responses (prompt + response examples, the response's tokens as
// targets), packed into `rows` x `seqLen` batches in order with block-diagonal attention (packing
// changes no value), read at each response token: the policy's and the reference's log-probabilities
// at a temperature, their entropies, the critic's values. PPO's rollouts and its update both use it,
// so the update's first forward pass computes the rollout's numbers again.
import PlumbModel
import PlumbTensor

/// Training-graph forward passes over rollouts' examples, packed into `rows` x `seqLen` batches in
/// order (block-diagonal attention: packing changes no value), read at each response token.
public final class ResponseTokenPass {
    public let model: LlamaModel
    let rows: Int
    let seqLen: Int
    let padToken: Int32
    let activations: LlamaActivations

    public init(model: LlamaModel, rows: Int, seqLen: Int, padToken: Int32) throws {
        self.model = model; self.rows = rows; self.seqLen = seqLen; self.padToken = padToken
        activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen, logits: model.heads.contains(.lm))
    }

    /// Groups of consecutive indices of `examples` that fit one batch each.
    func batches(_ examples: [BatchLayout.Example]) -> [Range<Int>] {
        RewardBatches.consecutiveBatches(lengths: examples.map(\.tokens.count), rows: rows, seqLen: seqLen)
    }

    /// Runs the forward pass over `examples` (one batch); returns the layout and, per example, the
    /// flat positions of its targets (one per response token, in order).
    func forward(_ examples: [BatchLayout.Example]) throws -> (BatchLayout, [[Int]]) {
        let layout = try BatchLayout.packed(examples, batchSize: rows, seqLen: seqLen, padToken: padToken)
        try model.forward(layout, activations)
        let positions = layout.spans.map { span in layout.flatRange(of: span).filter { layout.targets[$0] != CrossEntropy.ignoreIndex } }
        return (layout, positions)
    }

    /// Per example, the log-probability of each response token with the logits scaled by
    /// `logitScale` (1/T), and the entropies of those distributions when asked.
    public func logProbs(_ examples: [BatchLayout.Example], logitScale: Float, entropies: Bool) throws -> [(logProbs: [Float], entropy: [Float])] {
        var out: [(logProbs: [Float], entropy: [Float])] = []
        for range in batches(examples) {
            let (_, positions) = try forward(Array(examples[range]))
            try model.scaleLogits(activations, by: logitScale)
            let lp = try model.tokenLogProbs(activations)
            // H_n = (lp_n + H_n) - lp_n: CentredLogProbs adds each row's entropy to its log-probability.
            let centred = entropies ? try model.tokenLogProbs(activations, centred: true) : nil
            for p in positions {
                out.append((p.map { lp.pointer[$0] }, centred.map { c in p.map { c.pointer[$0] - lp.pointer[$0] } } ?? []))
            }
        }
        return out
    }

    /// Per example, the critic's value at each response token's predicting position.
    public func values(_ examples: [BatchLayout.Example]) throws -> [[Float]] {
        var out: [[Float]] = []
        for range in batches(examples) {
            let (_, positions) = try forward(Array(examples[range]))
            let v = try model.valueForward(activations)
            for p in positions { out.append(p.map { v.pointer[$0] }) }
        }
        return out
    }
}
