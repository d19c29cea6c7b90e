// What a bf16 frozen base costs against the fp32 one it was rounded from (`plumb bench base`):
//   - held-out log-likelihood: the mean log p(token | prefix) over every predicted token of some
//     sequences, each run alone (SequenceForward), on the fp32 base and on its bf16 rounding;
//   - step time: LoRA SFT steps (forward with the adapter, LM loss, backward, AdamW on the adapter)
//     on one sequence, alternating fp32 and bf16 step by step in one process, so both see the same
//     machine load; each base has its own adapter from the same seed.
import Foundation
import PlumbTensor

public enum BaseDTypeBenchmark {
    public struct LogLikelihood: Sendable {
        /// Sum over sequences of sum over predicted tokens of log p.
        public var sum: Double
        /// Predicted tokens (each sequence's length minus one).
        public var tokens: Int
        public var perToken: Double { sum / Double(max(tokens, 1)) }
    }

    /// The log-likelihood of `sequences` (each at least 2 tokens, at most the model's length) under `model`.
    public static func logLikelihood(_ model: LlamaModel, _ sequences: [[Int32]]) throws -> LogLikelihood {
        let examples = try sequences.map { t in try BatchLayout.Example(tokens: t, targets: Array(t.dropFirst()) + [CrossEntropy.ignoreIndex]) }
        let maxLength = sequences.map(\.count).max() ?? 1
        let forward = try SequenceForward(model: model, maxLength: maxLength, logits: true)
        let sums = try forward.map(examples, padToken: 0) { acts, _ in
            try model.tokenLogProbs(acts).array.reduce(0.0) { $0 + Double($1) }   // ignored targets give 0
        }
        return LogLikelihood(sum: sums.reduce(0, +), tokens: sequences.reduce(0) { $0 + $1.count - 1 })
    }

    /// `rounds` pairs of timed LoRA SFT steps on `tokens`, fp32 then bf16 in each round, after one
    /// untimed step on each; seconds per step of each base.
    public static func alternatedSteps(fp32: LlamaModel, bf16: LlamaModel, tokens: [Int32], rounds: Int, lora: LoRASettings,
                                       seed: UInt64) throws -> (fp32: [Double], bf16: [Double], losses: (fp32: Float, bf16: Float)) {
        let example = try BatchLayout.Example(tokens: tokens, targets: Array(tokens.dropFirst()) + [CrossEntropy.ignoreIndex])
        let batch = try BatchLayout.padded([example], batchSize: 1, seqLen: tokens.count, padToken: 0)
        let acts = try LlamaActivations(config: fp32.config, batchSize: 1, seqLen: tokens.count)
        let runs = try [fp32, bf16].map { model -> (LlamaModel, LoRAAdapter, AdamW) in
            let adapter = try LoRAAdapter(config: model.config, settings: lora, seed: seed)
            return (model, adapter, AdamW(parameters: adapter.parameters))
        }
        var seconds: [[Double]] = [[], []], last: [Float] = [0, 0]
        for round in 0...rounds {
            for (i, (model, adapter, optimizer)) in runs.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                adapter.parameters.zeroGrad()
                try model.forward(batch, acts, adapter: adapter)
                last[i] = try model.languageModelLoss(acts).loss
                try model.backward(acts)
                try optimizer.update(adapter.parameters, learningRate: 1e-4)
                if round > 0 { seconds[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
            }
        }
        return (seconds[0], seconds[1], (last[0], last[1]))
    }
}
