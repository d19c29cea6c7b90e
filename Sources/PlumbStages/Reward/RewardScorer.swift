// Scores token sequences with a reward model, no gradients: each sequence runs through the trunk
// alone (SequenceForward: its score is a function of the sequence, whatever it is scored beside),
// and r = h_last . w_score is read at its last token, plus beta * l(y|x) when the model carries a
// likelihood term (RewardLikelihoodTerm).
import PlumbModel
import PlumbTensor

public final class RewardScorer {
    let likelihood: RewardLikelihoodTerm
    let padToken: Int32
    let sequences: SequenceForward   // LM logits only with the likelihood term

    /// With `adapter`, the reward model is `model` plus that adapter (which may carry the reward head).
    /// `sharing`: the one-example workspaces of a pass that never runs at the same time as this scorer.
    public init(model: LlamaModel, seqLen: Int, padToken: Int32, likelihood: RewardLikelihoodTerm = .none,
                adapter: LoRAAdapter? = nil, sharing: SequenceForward? = nil) throws {
        guard model.heads.contains(.reward) || adapter?.heads.contains(.reward) == true else {
            throw StageError("reward scorer: neither the model nor its adapter has a reward head")
        }
        if likelihood.isActive && !model.heads.contains(.lm) {
            throw StageError("reward scorer: the likelihood term needs the model's LM head")
        }
        self.likelihood = likelihood
        self.padToken = padToken
        sequences = try SequenceForward(model: model, maxLength: seqLen, logits: likelihood.isActive, adapter: adapter, sharing: sharing)
    }

    /// Longest sequence accepted.
    public var seqLen: Int { sequences.maxLength }

    /// One score per sequence, in order. Each sequence must have 1...seqLen tokens. With the
    /// likelihood term, `responseStarts[i]` is where sequence i's response starts (required).
    public func scores(_ sequences: [[Int32]], responseStarts: [Int]? = nil) throws -> [Float] {
        if let i = sequences.firstIndex(where: { $0.isEmpty || $0.count > seqLen }) {
            throw StageError("reward scorer: sequence \(i) has \(sequences[i].count) tokens; it must have 1...\(seqLen)")
        }
        if likelihood.isActive && responseStarts?.count != sequences.count {
            throw StageError("reward scorer: the likelihood term needs where each of the \(sequences.count) responses starts")
        }
        let examples = try sequences.indices.map { i in
            try RewardBatches.example(sequences[i], responseStart: likelihood.isActive ? responseStarts?[i] : nil)
        }
        let model = self.sequences.model, term = likelihood
        return try self.sequences.map(examples, padToken: padToken) { acts, layout in
            let head = try model.rewardForward(acts, rows: model.lastTokenRows(layout))[0]
            return head + (try term.values(model: model, acts: acts, layout: layout))[0]
        }
    }
}
