// DPO's training objective over micro-batches of comparisons. A micro-batch of n pairs is the 2n
// examples [w_0, l_0, w_1, l_1, ...] packed into `rows` x `seqLen` (block-diagonal attention, so
// packing changes no log-probability); only response tokens are targets (ResponseLikelihood's one
// rule for policy and reference: a pair longer than the window keeps its last tokens).
//
//   forward:  lp_t = log p(y_t | ...) per token; log pi(y|x) = sum over the example's span
//   loss:     L = 1/n sum_i DPOLoss(pi_w,i, ref_w,i, pi_l,i, ref_l,i)   (reference log-probs cached)
//   backward: dL/dlp_t = dL/dlog pi(y|x) of the token's example, through the LM head and the trunk
import PlumbData
import PlumbModel
import PlumbTensor

/// One comparison ready for DPO: both responses as training examples with the reference's
/// log-probabilities (computed once, before training).
public struct DPOPair: Sendable, Equatable {
    public var id: String
    public var chosen: BatchLayout.Example
    public var rejected: BatchLayout.Example
    public var referenceChosen: Double
    public var referenceRejected: Double

    public init(id: String, chosen: BatchLayout.Example, rejected: BatchLayout.Example, referenceChosen: Double, referenceRejected: Double) {
        self.id = id; self.chosen = chosen; self.rejected = rejected
        self.referenceChosen = referenceChosen; self.referenceRejected = referenceRejected
    }

    public var chosenTokens: Int { chosen.targetCount }
    public var rejectedTokens: Int { rejected.targetCount }
}

public final class DPOObjective: TrainingObjective {
    let model: LlamaModel
    /// With LoRA, the policy is `model` plus this adapter and the reference the bare `model`.
    let adapter: LoRAAdapter?
    let train: [DPOPair]
    let validation: [DPOPair]
    let loss: DPOLoss
    let rows: Int
    let seqLen: Int
    let padToken: Int32
    let activations: LlamaActivations   // (rows, seqLen) with LM logits

    public init(model: LlamaModel, train: [DPOPair], validation: [DPOPair], loss: DPOLoss, rows: Int, seqLen: Int, padToken: Int32,
                adapter: LoRAAdapter? = nil) throws {
        try loss.validate()
        self.model = model
        self.adapter = adapter
        self.train = train
        self.validation = validation
        self.loss = loss
        self.rows = rows
        self.seqLen = seqLen
        self.padToken = padToken
        activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen)
    }

    /// Pairs of the micro-batch: its loss is their mean.
    public func lossUnits(indices: [Int]) -> Int { indices.count }

    public func accumulate(indices: [Int], scale: Float) throws -> MicroBatchResult {
        adapter?.training = true
        defer { adapter?.training = false }
        let (layout, policy) = try policyLogProbs(indices.map { train[$0] })
        var figures = Figures()
        var dSequence = [Float](repeating: 0, count: 2 * indices.count)
        for (j, i) in indices.enumerated() {
            let v = figures.add(train[i], policyChosen: policy[2 * j], policyRejected: policy[2 * j + 1], loss: loss)
            dSequence[2 * j] = Float(v.dChosen) * scale / Float(indices.count)
            dSequence[2 * j + 1] = Float(v.dRejected) * scale / Float(indices.count)
        }
        try model.tokenLogProbsBackward(activations, dLogProbs: try model.sequenceLogProbsGradient(dSequence, layout: layout))
        try model.backward(activations)
        let tokens = layout.spans.reduce(0) { $0 + $1.length }
        return MicroBatchResult(loss: Float(figures.loss / Double(indices.count)), tokens: tokens, extra: figures.metrics(prefix: ""))
    }

    public func evaluate() throws -> [String: Double] {
        guard !validation.isEmpty else { return [:] }
        let lengths = validation.map { ($0.chosen.tokens.count, $0.rejected.tokens.count) }
        var figures = Figures()
        for group in RewardBatches.microBatches(order: Array(validation.indices), lengths: lengths, rows: rows, seqLen: seqLen) {
            let (_, policy) = try policyLogProbs(group.map { validation[$0] })
            for (j, i) in group.enumerated() {
                _ = figures.add(validation[i], policyChosen: policy[2 * j], policyRejected: policy[2 * j + 1], loss: loss)
            }
        }
        var out = figures.metrics(prefix: "eval_")
        out["eval_loss"] = figures.loss / Double(figures.pairs)
        out["val_loss"] = out["eval_loss"]
        out["eval_pairs"] = Double(figures.pairs)
        return out
    }

    /// log pi(y|x) of [w_0, l_0, w_1, l_1, ...] after one forward pass; the activations keep the logits.
    func policyLogProbs(_ pairs: [DPOPair]) throws -> (BatchLayout, [Float]) {
        let layout = try BatchLayout.packed(pairs.flatMap { [$0.chosen, $0.rejected] }, batchSize: rows, seqLen: seqLen, padToken: padToken)
        try model.forward(layout, activations, adapter: adapter)
        return (layout, model.sequenceLogProbs(try model.tokenLogProbs(activations), layout: layout))
    }

    /// Sums of TRL's figures over pairs: rewards/chosen, rewards/rejected, rewards/accuracies,
    /// rewards/margins, logps/chosen, logps/rejected (means over pairs when reported).
    struct Figures {
        var pairs = 0
        var loss = 0.0
        var rewardChosen = 0.0, rewardRejected = 0.0, correct = 0.0, logpChosen = 0.0, logpRejected = 0.0

        mutating func add(_ p: DPOPair, policyChosen: Float, policyRejected: Float, loss: DPOLoss) -> DPOLoss.Value {
            let v = loss.evaluate(chosen: .init(policy: Double(policyChosen), reference: p.referenceChosen, tokens: p.chosenTokens),
                                  rejected: .init(policy: Double(policyRejected), reference: p.referenceRejected, tokens: p.rejectedTokens))
            pairs += 1
            self.loss += v.loss
            rewardChosen += v.rewardChosen
            rewardRejected += v.rewardRejected
            correct += v.rewardChosen > v.rewardRejected ? 1 : 0
            logpChosen += Double(policyChosen)
            logpRejected += Double(policyRejected)
            return v
        }

        func metrics(prefix: String) -> [String: Double] {
            let n = Double(max(pairs, 1))
            return [prefix + "rewards/chosen": rewardChosen / n, prefix + "rewards/rejected": rewardRejected / n,
                    prefix + "rewards/accuracies": correct / n, prefix + "rewards/margins": (rewardChosen - rewardRejected) / n,
                    prefix + "logps/chosen": logpChosen / n, prefix + "logps/rejected": logpRejected / n]
        }
    }
}
