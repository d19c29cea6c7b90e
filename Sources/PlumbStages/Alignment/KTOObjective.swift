// KTO's training objective over micro-batches of unpaired examples (KTOLoss has the formulas).
// Each example carries a mismatched twin: its prompt with another example's response, the pair
// whose log-ratio estimates the KL reference point z0 (TRL's KL dataset). Both sequences of an
// example share a micro-batch (RewardBatches' pair plan), so z0 is the micro-batch's own estimate.
//
//   forward 1 (no gradient): log pi(y'_j|x_j) of the twins       -> z0 with their cached log ref(y'_j|x_j)
//   forward 2:               log pi(y_i|x_i) of the examples      -> L = KTOLoss over the micro-batch
//   backward:                dL/dlp_t = dL/dlog pi(y_i|x_i) of the token's example, through the LM head and the trunk
import PlumbModel
import PlumbTensor

/// One unpaired example ready for KTO, with the reference's log-probabilities (computed once).
public struct KTOExample: Sendable, Equatable {
    public var id: String
    /// Prompt + response; the response's tokens are the targets (ResponseLikelihood.example).
    public var example: BatchLayout.Example
    public var desirable: Bool
    public var reference: Double
    /// The prompt with another example's response, and its reference log-probability.
    public var mismatched: BatchLayout.Example
    public var mismatchedReference: Double

    /// The response's target tokens.
    public var responseTokens: Int { example.targetCount }

    public init(id: String, example: BatchLayout.Example, desirable: Bool, reference: Double,
                mismatched: BatchLayout.Example, mismatchedReference: Double) {
        self.id = id; self.example = example; self.desirable = desirable; self.reference = reference
        self.mismatched = mismatched; self.mismatchedReference = mismatchedReference
    }
}

public final class KTOObjective: TrainingObjective {
    let model: LlamaModel
    let train: [KTOExample]
    let validation: [KTOExample]
    let loss: KTOLoss
    let rows: Int
    let seqLen: Int
    let padToken: Int32
    let activations: LlamaActivations   // (rows, seqLen) with LM logits

    public init(model: LlamaModel, train: [KTOExample], validation: [KTOExample], loss: KTOLoss, rows: Int, seqLen: Int, padToken: Int32) throws {
        try loss.validate()
        self.model = model; self.train = train; self.validation = validation; self.loss = loss
        self.rows = rows; self.seqLen = seqLen; self.padToken = padToken
        activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen)
    }

    /// The micro-batch plan: each example with its twin, as pairs.
    public static func plan(_ examples: [KTOExample], rows: Int, seqLen: Int, accumulation: Int, epochs: Int, seed: UInt64) throws -> BatchPlan {
        try RewardBatches.plan(lengths: examples.map { ($0.example.tokens.count, $0.mismatched.tokens.count) }, records: Array(examples.indices),
                               rows: rows, seqLen: seqLen, accumulation: accumulation, epochs: epochs, seed: seed)
    }

    /// Examples of the micro-batch: its loss is their mean.
    public func lossUnits(indices: [Int]) -> Int { indices.count }

    public func accumulate(indices: [Int], scale: Float) throws -> MicroBatchResult {
        let batch = indices.map { train[$0] }
        let mismatched = try logProbs(batch.map(\.mismatched))
        let (layout, policy) = try forward(batch.map(\.example))
        let value = evaluate(batch, policy: policy, mismatched: mismatched)
        let dSequence = value.dPolicy.map { Float($0) * scale }
        try model.tokenLogProbsBackward(activations, dLogProbs: try model.sequenceLogProbsGradient(dSequence, layout: layout))
        try model.backward(activations)
        var figures = Figures()
        figures.add(batch, policy: policy, value: value)
        return MicroBatchResult(loss: Float(value.loss), tokens: layout.spans.reduce(0) { $0 + $1.length }, extra: figures.metrics(prefix: ""))
    }

    public func evaluate() throws -> [String: Double] {
        guard !validation.isEmpty else { return [:] }
        let lengths = validation.map { ($0.example.tokens.count, $0.mismatched.tokens.count) }
        var figures = Figures()
        for group in RewardBatches.microBatches(order: Array(validation.indices), lengths: lengths, rows: rows, seqLen: seqLen) {
            let batch = group.map { validation[$0] }
            let mismatched = try logProbs(batch.map(\.mismatched))
            let policy = try forward(batch.map(\.example)).1
            figures.add(batch, policy: policy, value: evaluate(batch, policy: policy, mismatched: mismatched))
        }
        var out = figures.metrics(prefix: "eval_")
        out["eval_loss"] = figures.loss / Double(figures.examples)
        out["val_loss"] = out["eval_loss"]
        return out
    }

    func evaluate(_ batch: [KTOExample], policy: [Float], mismatched: [Float]) -> KTOLoss.Value {
        loss.evaluate(zip(batch, policy).map { .init(policy: Double($1), reference: $0.reference, desirable: $0.desirable, tokens: $0.responseTokens) },
                      mismatched: zip(batch, mismatched).map { (Double($1), $0.mismatchedReference) })
    }

    /// log pi(y|x) of each example after one forward pass; the activations keep its logits.
    func forward(_ examples: [BatchLayout.Example]) throws -> (BatchLayout, [Float]) {
        let layout = try BatchLayout.packed(examples, batchSize: rows, seqLen: seqLen, padToken: padToken)
        try model.forward(layout, activations)
        return (layout, model.sequenceLogProbs(try model.tokenLogProbs(activations), layout: layout))
    }

    func logProbs(_ examples: [BatchLayout.Example]) throws -> [Float] { try forward(examples).1 }

    /// Sums of TRL's KTO figures: rewards/chosen and logps/chosen over desirable examples,
    /// rewards/rejected and logps/rejected over undesirable ones, kl per micro-batch.
    struct Figures {
        var examples = 0, desirable = 0, undesirable = 0, batches = 0
        var loss = 0.0, kl = 0.0
        var rewardChosen = 0.0, rewardRejected = 0.0, logpChosen = 0.0, logpRejected = 0.0

        mutating func add(_ batch: [KTOExample], policy: [Float], value: KTOLoss.Value) {
            examples += batch.count
            batches += 1
            loss += value.loss * Double(batch.count)
            kl += value.kl
            for (i, e) in batch.enumerated() {
                if e.desirable {
                    desirable += 1; rewardChosen += value.rewards[i]; logpChosen += Double(policy[i])
                } else {
                    undesirable += 1; rewardRejected += value.rewards[i]; logpRejected += Double(policy[i])
                }
            }
        }

        func metrics(prefix: String) -> [String: Double] {
            let d = Double(max(desirable, 1)), u = Double(max(undesirable, 1))
            return [prefix + "rewards/chosen": rewardChosen / d, prefix + "rewards/rejected": rewardRejected / u,
                    prefix + "rewards/margins": rewardChosen / d - rewardRejected / u,
                    prefix + "logps/chosen": logpChosen / d, prefix + "logps/rejected": logpRejected / u,
                    prefix + "kl": kl / Double(max(batches, 1)), prefix + "count/chosen": Double(desirable), prefix + "count/rejected": Double(undesirable)]
        }
    }
}
