// The reward model's training objective over micro-batches of comparisons (RewardBatches layout:
// spans [c_0, r_0, c_1, r_1, ...]):
//
//   r_i = h_{last token of sequence i} . w_score  (+ beta * l_i, RewardLikelihoodTerm)   one scalar each
//   L   = 1/n Σ_i -log σ(r_c,i - r_r,i - m_i) + c · 1/n Σ_i (r_c,i + r_r,i)²   RankingLoss (Llama 2 eq. 2)
//
// Backward: dL/dr from RankingLoss, into the reward head and dFinalHidden at the last-token rows
// (and, with the likelihood term, into the LM head at the response tokens), then through the trunk.
// Validation reports the mean loss and the pairwise accuracy.
import PlumbModel
import PlumbTensor

public final class RewardObjective: TrainingObjective {
    let model: LlamaModel
    /// With LoRA: the adapter (with its own reward head) over the frozen `model`.
    let adapter: LoRAAdapter?
    let train: [RewardPair]
    let validation: [RewardPair]
    let rows: Int
    let seqLen: Int
    let padToken: Int32
    let centring: Float
    let likelihood: RewardLikelihoodTerm
    let activations: LlamaActivations   // (rows, seqLen); LM logits only with the likelihood term
    let scorer: RewardScorer

    public init(model: LlamaModel, train: [RewardPair], validation: [RewardPair], rows: Int, seqLen: Int,
                padToken: Int32, centring: Float, likelihood: RewardLikelihoodTerm = .none, adapter: LoRAAdapter? = nil) throws {
        self.model = model
        self.adapter = adapter
        self.train = train
        self.validation = validation
        self.rows = rows
        self.seqLen = seqLen
        self.padToken = padToken
        self.centring = centring
        self.likelihood = likelihood
        activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen, logits: likelihood.isActive)
        scorer = try RewardScorer(model: model, seqLen: seqLen, padToken: padToken, likelihood: likelihood, adapter: adapter)
    }

    /// Pairs of the micro-batch: its loss is their mean.
    public func lossUnits(indices: [Int]) -> Int { indices.count }

    public func accumulate(indices: [Int], scale: Float) throws -> MicroBatchResult {
        let sequences = RewardBatches.interleaved(indices, pairs: train)
        let starts = likelihood.isActive ? RewardBatches.interleavedResponseStarts(indices, pairs: train) : nil
        let layout = try RewardBatches.layout(sequences, responseStarts: starts, rows: rows, seqLen: seqLen, padToken: padToken)
        adapter?.training = true
        defer { adapter?.training = false }
        try model.forward(layout, activations, adapter: adapter)
        let lastRows = model.lastTokenRows(layout)                    // 2n rows: chosen at even, rejected at odd
        let term = try likelihood.values(model: model, acts: activations, layout: layout)
        let rewards = zip(try model.rewardForward(activations, rows: lastRows), term).map { $0 + $1 }
        let n = indices.count
        let chosen = (0..<n).map { rewards[2 * $0] }, rejected = (0..<n).map { rewards[2 * $0 + 1] }
        let result = RankingLoss.evaluate(chosen: chosen, rejected: rejected, margins: indices.map { train[$0].margin },
                                          centring: centring)
        var dRewards = [Float](repeating: 0, count: 2 * n)
        for i in 0..<n {
            dRewards[2 * i] = result.gradChosen[i] * scale
            dRewards[2 * i + 1] = result.gradRejected[i] * scale
        }
        try model.rewardBackward(activations, rows: lastRows, dRewards: dRewards)
        try likelihood.backward(model: model, acts: activations, layout: layout, dRewards: dRewards)
        try model.backward(activations)
        let tokens = sequences.reduce(0) { $0 + $1.count }
        return MicroBatchResult(loss: result.loss, tokens: tokens, extra: ["accuracy": Double(result.accuracy)])
    }

    public func evaluate() throws -> [String: Double] {
        guard !validation.isEmpty else { return [:] }
        let all = Array(validation.indices)
        let rewards = try scorer.scores(RewardBatches.interleaved(all, pairs: validation),
                                        responseStarts: RewardBatches.interleavedResponseStarts(all, pairs: validation))
        let n = validation.count
        let result = RankingLoss.evaluate(chosen: (0..<n).map { rewards[2 * $0] }, rejected: (0..<n).map { rewards[2 * $0 + 1] },
                                          margins: validation.map(\.margin), centring: centring)
        return ["val_loss": Double(result.loss), "val_accuracy": Double(result.accuracy), "val_pairs": Double(n)]
    }
}
