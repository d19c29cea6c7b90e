// Scores token sequences with a reward model, no gradients: sequences are packed in order into
// `rows` x `seqLen` batches (block-diagonal attention, so packing does not change a score), the
// trunk runs forward, and r = h_last . w_score is read at each sequence's last token, plus
// beta * l(y|x) when the model carries a likelihood term (RewardLikelihoodTerm).
import PlumbModel
import PlumbTensor

public final class RewardScorer {
    let model: LlamaModel
    let likelihood: RewardLikelihoodTerm
    let rows: Int
    let seqLen: Int
    let padToken: Int32
    let activations: LlamaActivations   // (rows, seqLen); LM logits only with the likelihood term

    public convenience init(model: LlamaModel, rows: Int, seqLen: Int, padToken: Int32, likelihood: RewardLikelihoodTerm = .none) throws {
        let activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen, logits: likelihood.isActive)
        try self.init(model: model, activations: activations, padToken: padToken, likelihood: likelihood)
    }

    /// A scorer over activations owned elsewhere (a training objective lends its own).
    init(model: LlamaModel, activations: LlamaActivations, padToken: Int32, likelihood: RewardLikelihoodTerm) throws {
        guard model.heads.contains(.reward) else { throw StageError("reward scorer: the model has no reward head") }
        if likelihood.isActive {
            guard model.heads.contains(.lm), activations.logits != nil else {
                throw StageError("reward scorer: the likelihood term needs the model's LM head and activations with logits")
            }
        }
        self.model = model
        self.likelihood = likelihood
        self.rows = activations.batchSize
        self.seqLen = activations.seqLen
        self.padToken = padToken
        self.activations = activations
    }

    /// One score per sequence, in order. Each sequence must have 1...seqLen tokens. With the
    /// likelihood term, `responseStarts[i]` is where sequence i's response starts (required).
    public func scores(_ sequences: [[Int32]], responseStarts: [Int]? = nil) throws -> [Float] {
        if let i = sequences.firstIndex(where: { $0.isEmpty || $0.count > seqLen }) {
            throw StageError("reward scorer: sequence \(i) has \(sequences[i].count) tokens; it must have 1...\(seqLen)")
        }
        if likelihood.isActive && responseStarts?.count != sequences.count {
            throw StageError("reward scorer: the likelihood term needs where each of the \(sequences.count) responses starts")
        }
        var out: [Float] = []
        out.reserveCapacity(sequences.count)
        for batch in RewardBatches.consecutiveBatches(lengths: sequences.map(\.count), rows: rows, seqLen: seqLen) {
            out += try forward(Array(sequences[batch]), responseStarts: responseStarts.map { Array($0[batch]) })
        }
        return out
    }

    /// Forward on one batch that fits; the rewards of its sequences in order.
    func forward(_ batch: [[Int32]], responseStarts: [Int]?) throws -> [Float] {
        let layout = try RewardBatches.layout(batch, responseStarts: likelihood.isActive ? responseStarts : nil,
                                              rows: rows, seqLen: seqLen, padToken: padToken)
        try model.forward(layout, activations)
        let head = try model.rewardForward(activations, rows: model.lastTokenRows(layout))
        let term = try likelihood.values(model: model, acts: activations, layout: layout)
        return zip(head, term).map { $0 + $1 }
    }
}
