// Next-token cross-entropy over packed or padded micro-batches (pretraining and SFT):
//
//   L = -(1/K) Σ_n log softmax(logits_n)[y_n]     over the K tokens of the micro-batch with a target
//
// K is the micro-batch's loss units: TrainingLoop weights micro-batches by it, so a step's loss is the
// mean over every target token of the step.
// Validation reports the token-weighted mean loss and next-token accuracy (argmax == target),
// TigerBot's quick preview. With a LoRA adapter, every pass runs the frozen base plus the adapter, whose
// dropout is on in training passes only.
import PlumbModel
import PlumbTensor

public final class LanguageModelObjective: TrainingObjective {
    let model: LlamaModel
    let adapter: LoRAAdapter?
    let train: [BatchLayout.Example]
    let validation: [BatchLayout.Example]
    let rows: Int
    let seqLen: Int
    let layout: SequenceLayout
    let padToken: Int32
    let activations: LlamaActivations   // (rows, seqLen), allocated once

    public init(model: LlamaModel, train: [BatchLayout.Example], validation: [BatchLayout.Example],
                rows: Int, seqLen: Int, layout: SequenceLayout, padToken: Int32, adapter: LoRAAdapter? = nil) throws {
        self.model = model
        self.adapter = adapter
        self.train = train
        self.validation = validation
        self.rows = rows
        self.seqLen = seqLen
        self.layout = layout
        self.padToken = padToken
        activations = try LlamaActivations(config: model.config, batchSize: rows, seqLen: seqLen)
    }

    /// Target tokens of the micro-batch: its loss is their mean.
    public func lossUnits(indices: [Int]) -> Int {
        indices.reduce(0) { $0 + train[$1].targetCount }
    }

    public func accumulate(indices: [Int], scale: Float) throws -> MicroBatchResult {
        let batch = try makeBatch(indices.map { train[$0] })
        adapter?.training = true
        defer { adapter?.training = false }
        try model.forward(batch, activations, adapter: adapter)
        let (loss, targets) = try model.languageModelLoss(activations, gradScale: scale)
        try model.backward(activations)
        let tokens = batch.spans.reduce(0) { $0 + $1.length }
        return MicroBatchResult(loss: loss, tokens: tokens, extra: ["target_tokens": Double(targets)])
    }

    public func evaluate() throws -> [String: Double] {
        guard !validation.isEmpty else { return [:] }
        let lengths = validation.map(\.tokens.count)
        let groups = BatchPlan.microBatches(order: Array(validation.indices), lengths: lengths, rows: rows, seqLen: seqLen, layout: layout)
        var lossSum = 0.0, tokenSum = 0, correct = 0
        for group in groups {
            let batch = try makeBatch(group.map { validation[$0] })
            try model.forward(batch, activations, adapter: adapter)
            let (loss, tokens) = try model.languageModelLoss(activations, backward: false)
            lossSum += Double(loss) * Double(tokens)
            tokenSum += tokens
            correct += countCorrect(batch)
        }
        guard tokenSum > 0 else { return [:] }
        return ["val_loss": lossSum / Double(tokenSum), "val_accuracy": Double(correct) / Double(tokenSum), "val_tokens": Double(tokenSum)]
    }

    func makeBatch(_ examples: [BatchLayout.Example]) throws -> BatchLayout {
        switch layout {
        case .packed: return try BatchLayout.packed(examples, batchSize: rows, seqLen: seqLen, padToken: padToken)
        case .padded: return try BatchLayout.padded(examples, batchSize: rows, seqLen: seqLen, padToken: padToken)
        }
    }

    /// Tokens whose highest logit is their target.
    private func countCorrect(_ batch: BatchLayout) -> Int {
        guard let logits = activations.logits else { return 0 }
        let v = model.config.vocabSize
        var correct = 0
        for n in 0..<batch.tokenCount where batch.targets[n] != CrossEntropy.ignoreIndex {
            let row = logits.pointer + n * v
            var best = 0
            for j in 1..<v where row[j] > row[best] { best = j }
            if Int32(best) == batch.targets[n] { correct += 1 }
        }
        return correct
    }
}
