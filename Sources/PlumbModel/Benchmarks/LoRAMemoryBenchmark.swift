// What one training step costs in memory and time with LoRA on a frozen base, against full-parameter
// training, at a given shape with random weights and tokens (`plumb bench memory`): one process per
// mode, so the process's peak RSS is the mode's.
//   lora-sft   one sequence of T tokens, LM loss, the adapter's AdamW step (the base: no gradient arena)
//   lora-dpo   a chosen and a rejected sequence of T tokens each, DPO's sigmoid loss (beta 0.1) against
//              the reference log-probabilities of the same base with the adapter off (computed once
//              before the timed steps, as the cached reference), the adapter's AdamW step
//   full-sft   one sequence, every parameter trained (gradients and AdamW moments for all)
// With `base=bf16` in the LoRA settings the frozen base holds its projections in bf16 (BF16Base.swift).
//   lora-ppo   one PPO iteration with the five roles on one base: it runs PlumbStages' code, so the
//              command runs it (Sources/PlumbCLI/Model/BenchMemoryPPO.swift), not `run` here
import Foundation
import PlumbTensor

public enum LoRAMemoryBenchmark {
    public enum Mode: String, CaseIterable, Sendable {
        case loraSFT = "lora-sft", loraDPO = "lora-dpo", fullSFT = "full-sft", loraPPO = "lora-ppo"
    }

    public struct Result: Sendable {
        public var stepSeconds: [Double]
        public var baseScalars: Int
        /// Bytes of the base's weights (2 per bf16 projection weight under `base=bf16`).
        public var baseBytes: Int
        public var trainedScalars: Int
        /// Bytes of AdamW's moments and of the gradient arenas that exist.
        public var optimizerBytes: Int
        public var gradientBytes: Int
        public var losses: [Float]
    }

    /// `steps` timed steps after one untimed warm-up step.
    public static func run(config: LlamaConfig, mode: Mode, seqLen: Int, steps: Int, lora: LoRASettings, seed: UInt64) throws -> Result {
        guard mode != .loraPPO else { throw ConfigError("LoRAMemoryBenchmark.run: lora-ppo runs PPO's stage code; `plumb bench memory` runs it") }
        let base = try LlamaModel(config: config.with(maxSeqLen: max(config.maxSeqLen, seqLen)), heads: .lm, gradients: mode == .fullSFT,
                                  baseDType: mode == .fullSFT ? .fp32 : lora.baseDType)
        base.initialize(seed: seed)   // bf16: the fp32 draws rounded
        let adapter: LoRAAdapter? = mode == .fullSFT ? nil : try LoRAAdapter(config: base.config, settings: lora, seed: seed &+ 1)
        let trained = adapter?.parameters ?? base.parameters
        let optimizer = AdamW(parameters: trained)
        var rng = SeededRNG(seed: seed &+ 2)
        let rows = mode == .loraDPO ? 2 : 1
        let examples = try (0..<rows).map { _ -> BatchLayout.Example in
            let tokens = (0..<seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
            return try BatchLayout.Example(tokens: tokens, targets: Array(tokens.dropFirst()) + [CrossEntropy.ignoreIndex])
        }
        let batch = try BatchLayout.padded(examples, batchSize: rows, seqLen: seqLen, padToken: 0)
        let acts = try LlamaActivations(config: base.config, batchSize: rows, seqLen: seqLen)
        var reference: [Float] = []
        if mode == .loraDPO {   // the base with the adapter off, once: the cached reference
            try base.forward(batch, acts)
            reference = base.sequenceLogProbs(try base.tokenLogProbs(acts), layout: batch)
        }
        var losses: [Float] = [], times: [Double] = []
        for step in 0...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            trained.zeroGrad()
            adapter?.training = true
            try base.forward(batch, acts, adapter: adapter)
            if mode == .loraDPO {
                losses.append(try dpoBackward(base, acts, batch: batch, reference: reference))
            } else {
                losses.append(try base.languageModelLoss(acts).loss)
            }
            try base.backward(acts)
            GradientClipping.clip(trained, maxNorm: 1)
            try optimizer.update(trained, learningRate: 1e-4)
            if step > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        let scalar = MemoryLayout<Float>.stride
        return Result(stepSeconds: times, baseScalars: base.weightCount, baseBytes: base.weightBytes, trainedScalars: trained.totalCount,
                      optimizerBytes: 2 * trained.totalCount * scalar,
                      gradientBytes: (base.parameters.gradients.count + (adapter?.parameters.gradients.count ?? 0)) * scalar,
                      losses: losses)
    }

    /// DPO's sigmoid loss on (chosen, rejected) = rows (0, 1), z = beta ((pi_w - ref_w) - (pi_l - ref_l)):
    ///   L = -log sigmoid(z),  dL/dpi_w = -beta sigmoid(-z),  dL/dpi_l = beta sigmoid(-z)   (Rafailov et al. 2023, eq. 7)
    static func dpoBackward(_ model: LlamaModel, _ acts: LlamaActivations, batch: BatchLayout, reference: [Float]) throws -> Float {
        let beta = 0.1
        let policy = model.sequenceLogProbs(try model.tokenLogProbs(acts), layout: batch)
        let z = beta * (Double(policy[0] - reference[0]) - Double(policy[1] - reference[1]))
        let s = 1 / (1 + exp(z))   // sigmoid(-z)
        let d = Float(beta * s)
        try model.tokenLogProbsBackward(acts, dLogProbs: try model.sequenceLogProbsGradient([-d, d], layout: batch))
        return Float(log(1 + exp(-z)))
    }
}
