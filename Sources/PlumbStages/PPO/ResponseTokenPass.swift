// Forward passes over responses (prompt + response examples, the response's tokens as targets),
// read at each response token: the policy's and the reference's log-probabilities at a temperature,
// their entropies, the critic's values. Rollouts run each example alone (SequenceForward: a value is
// a function of the example, not of its batch-mates); the update packs examples into `rows` x
// `seqLen` training batches (block-diagonal attention) through `forward`. With a LoRA adapter the
// passes run the shared frozen base plus that adapter (the adapter may carry the critic's value head).
import PlumbModel
import PlumbTensor

public final class ResponseTokenPass {
    public let model: LlamaModel
    /// The adapter every pass runs with (nil: the model alone).
    public let adapter: LoRAAdapter?
    let rows: Int
    let seqLen: Int
    let padToken: Int32
    let activations: LlamaActivations   // (rows, seqLen): the update's training batches
    let sequences: SequenceForward      // the rollouts' one-example passes

    /// `logits`: whether the LM head runs (default: when the model has one; a critic on a shared
    /// base with an LM head passes false).
    /// `sharing`: reuse that pass's activations and workspaces (same rows and seqLen; the two passes
    /// must never run at the same time, as PPO's roles on one LoRA base do not).
    public init(model: LlamaModel, rows: Int, seqLen: Int, padToken: Int32, adapter: LoRAAdapter? = nil, logits: Bool? = nil,
                sharing other: ResponseTokenPass? = nil) throws {
        self.model = model; self.adapter = adapter; self.rows = rows; self.seqLen = seqLen; self.padToken = padToken
        let logits = logits ?? model.heads.contains(.lm)
        if let other {
            guard other.rows == rows, other.seqLen == seqLen, !logits || other.activations.logits != nil else {
                throw ConfigError("response pass: cannot share a pass of \(other.rows) x \(other.seqLen) rows (this one: \(rows) x \(seqLen)) or without logits")
            }
            activations = LlamaActivations(reusing: other.activations, logits: logits)
        } else {
            activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen, logits: logits)
        }
        sequences = try SequenceForward(model: model, maxLength: seqLen, logits: logits, adapter: adapter, sharing: other?.sequences)
    }

    /// The one-example passes (their workspaces can be shared with a reward scorer).
    public var sequencePasses: SequenceForward { sequences }

    /// Groups of consecutive indices of `examples` that fit one batch each.
    func batches(_ examples: [BatchLayout.Example]) -> [Range<Int>] {
        RewardBatches.consecutiveBatches(lengths: examples.map(\.tokens.count), rows: rows, seqLen: seqLen)
    }

    /// Runs the forward pass over `examples` (one batch); returns the layout and, per example, the
    /// flat positions of its targets (one per response token, in order).
    func forward(_ examples: [BatchLayout.Example]) throws -> (BatchLayout, [[Int]]) {
        let layout = try BatchLayout.packed(examples, batchSize: rows, seqLen: seqLen, padToken: padToken)
        try model.forward(layout, activations, adapter: adapter)
        let positions = layout.spans.map { Self.targetPositions(layout, $0) }
        return (layout, positions)
    }

    /// The flat positions of a layout's targets in one example's span (one per response token, in order).
    static func targetPositions(_ layout: BatchLayout, _ span: BatchLayout.Span) -> [Int] {
        layout.flatRange(of: span).filter { layout.targets[$0] != CrossEntropy.ignoreIndex }
    }

    /// Per example, the log-probability of each response token with the logits scaled by
    /// `logitScale` (1/T), and the entropies of those distributions when asked.
    public func logProbs(_ examples: [BatchLayout.Example], logitScale: Float, entropies: Bool) throws -> [(logProbs: [Float], entropy: [Float])] {
        let model = self.model
        return try sequences.map(examples, padToken: padToken) { acts, layout in
            let p = Self.targetPositions(layout, layout.spans[0])
            try model.scaleLogits(acts, by: logitScale)
            let lp = try model.tokenLogProbs(acts)
            // H_n = (lp_n + H_n) - lp_n: CentredLogProbs adds each row's entropy to its log-probability.
            let centred = entropies ? try model.tokenLogProbs(acts, centred: true) : nil
            return (p.map { lp.pointer[$0] }, centred.map { c in p.map { c.pointer[$0] - lp.pointer[$0] } } ?? [])
        }
    }

    /// Per example, the critic's value at each response token's predicting position.
    public func values(_ examples: [BatchLayout.Example]) throws -> [[Float]] {
        let model = self.model
        return try sequences.map(examples, padToken: padToken) { acts, layout in
            let v = try model.valueForward(acts)
            return Self.targetPositions(layout, layout.spans[0]).map { v.pointer[$0] }
        }
    }
}
