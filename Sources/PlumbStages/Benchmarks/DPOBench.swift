// `plumb bench dpo`: DPO-family training steps against the sgemm ceiling measured in the same run,
// through the dpo stage's own code with its parameters (DPOStage.Parameters' defaults but for the
// loss kind, rows = 2 x pairs, the sequence length and an epoch per step): the stage's pair plan
// (RewardBatches.plan), DPOObjective, and the stage's training step (TrainingLoop.takeStep: the
// micro-batches weighted by their loss units, the Trainer's clipping and AdamW at the scheduled rate).
// The reference's log-probabilities are cached (they cost nothing per step), or with
// `uncachedReference` computed every step by a reference model's forward passes (what a trainer
// without a cache pays); simpo and orpo need none. Random weights and tokens. The policy's FLOPs are
// the training count of its tokens (PaLM appendix B, as `bench train`).
import Foundation
import PlumbData
import PlumbFiles
import PlumbModel
import PlumbTensor

public enum DPOBench {
    public struct Options: Sendable {
        public var preset: LlamaPreset = .stories15m
        /// Pairs per step.
        public var pairs = 4
        /// Tokens per response sequence (prompt + response), and the prompt's share of them.
        public var seqLen = 256
        public var promptLength = 64
        /// Timed steps (after one warm-up step).
        public var steps = 3
        public var seed: UInt64 = 0
        public var loss: DPOLossKind = .sigmoid
        /// Compute the reference's log-probabilities every step (no cache).
        public var uncachedReference = false
        /// The square sizes of the sgemm ceiling probe (before and after the steps).
        public var ceilingSizes = [1024, 2048]
        public init() {}
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "dpo"
        public var preset: String
        public var pairsPerStep: Int, seqLen: Int, steps: Int
        public var stepSeconds: Double, pairsPerSecond: Double
        public var policyGflopPerStep: Double, achievedGflops: Double
        public var sgemmCeilingGflops: Double, fractionOfCeiling: Double
        public var loss: String
        /// "none", "a forward pass per step" or "cached (no forward per step)".
        public var reference: String
        public var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case benchmark, preset, pairsPerStep = "pairs_per_step", seqLen = "seq_len", steps, stepSeconds = "step_seconds"
            case pairsPerSecond = "pairs_per_second", policyGflopPerStep = "policy_gflop_per_step", achievedGflops = "achieved_gflops"
            case sgemmCeilingGflops = "sgemm_ceiling_gflops", fractionOfCeiling = "fraction_of_ceiling", loss, reference, peakRSSBytes = "peak_rss_bytes"
        }
    }

    /// The dpo stage's parameters for the bench.
    public static func parameters(_ o: Options) -> DPOStage.Parameters {
        var p = DPOStage.Parameters()
        p.loss.kind = o.loss
        (p.optimisation.rows, p.optimisation.seqLen, p.optimisation.epochs) = (2 * o.pairs, o.seqLen, o.steps + 1)
        return p
    }

    public static func run(_ o: Options) throws -> Report {
        guard o.pairs > 0, o.promptLength > 0, o.seqLen > o.promptLength + 1, o.steps > 0 else {
            throw BenchmarkError("bench dpo: positive sizes and --seq-len > --prompt-length + 1")
        }
        guard !o.uncachedReference || o.loss.needsReference else { throw BenchmarkError("bench dpo: --loss \(o.loss.rawValue) uses no reference: drop --uncached-reference") }
        let config = try BenchBudget.config(o.preset, seqLen: o.seqLen)
        let referenceBytes = o.uncachedReference
            ? 8 * BenchBudget.parameterCount(config) + 4 * BenchBudget.activationFloats(config, batchSize: 2 * o.pairs, seqLen: o.seqLen) : 0
        try BenchBudget.checkFits("bench dpo --preset \(o.preset.rawValue) (\(o.pairs) pairs x \(o.seqLen))",
                                  bytes: BenchBudget.trainingBytes(config, batchSize: 2 * o.pairs, seqLen: o.seqLen, tokenLogProbGradient: true) + referenceBytes)
        let model = try LlamaModel(config: config, heads: .lm, seed: o.seed)
        let data = try pairs(config, o)
        let p = parameters(o)
        let objective = try DPOObjective(model: model, train: data, validation: [], loss: p.loss, rows: p.rows, seqLen: p.seqLen, padToken: 0)
        let plan = try RewardBatches.plan(lengths: data.map { ($0.chosen.tokens.count, $0.rejected.tokens.count) }, records: Array(data.indices),
                                          rows: p.rows, seqLen: p.seqLen, accumulation: p.loop.optimization.gradientAccumulation, epochs: p.epochs,
                                          seed: p.seed)
        let checkpoints = FileManager.default.temporaryDirectory.appendingPathComponent("bench-dpo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: checkpoints) }
        let loop = try TrainingLoop(model: model, plan: plan, settings: p.loop, checkpointRoot: checkpoints)
        let trainer = try loop.makeTrainer()
        let reference = o.uncachedReference
            ? try ResponseLikelihood(model: try LlamaModel(config: config, heads: .lm, seed: o.seed &+ 1), seqLen: o.seqLen, padToken: 0) : nil
        func step(_ index: Int) throws {
            if let reference { _ = try reference.logLikelihoods(data.flatMap { [$0.chosen, $0.rejected] }) }
            _ = try loop.takeStep(index, objective: objective, trainer: trainer)
        }
        let before = GemmBenchmark.ceiling(sizes: o.ceilingSizes, repetitions: 3)
        try step(0)
        let start = monotonicSeconds()
        for s in 1...o.steps { try step(s) }
        let seconds = (monotonicSeconds() - start) / Double(o.steps)
        let after = GemmBenchmark.ceiling(sizes: o.ceilingSizes, repetitions: 3)
        let ceiling = max(before.gflops, after.gflops)
        let flops = ModelBenchmarks.trainingFlops(config, batchSize: 2 * o.pairs, seqLen: o.seqLen)
        return Report(preset: o.preset.rawValue, pairsPerStep: o.pairs, seqLen: o.seqLen, steps: o.steps, stepSeconds: seconds,
                      pairsPerSecond: Double(o.pairs) / seconds, policyGflopPerStep: flops / 1e9, achievedGflops: flops / seconds / 1e9,
                      sgemmCeilingGflops: ceiling, fractionOfCeiling: flops / seconds / 1e9 / ceiling, loss: o.loss.rawValue,
                      reference: !o.loss.needsReference ? "none" : o.uncachedReference ? "a forward pass per step" : "cached (no forward per step)",
                      peakRSSBytes: peakRSSBytes() ?? -1)
    }

    /// `pairs` pairs of random sequences of seqLen + 1 tokens (cut to the window), the cached
    /// reference log-probabilities -seqLen each.
    static func pairs(_ config: LlamaConfig, _ o: Options) throws -> [DPOPair] {
        var rng = SeededRNG(seed: o.seed &+ 3)
        func example() throws -> BatchLayout.Example {
            let tokens = (0...o.seqLen).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
            return try ResponseLikelihood.example(TokenizedExample(tokens: tokens, promptCount: o.promptLength), seqLen: o.seqLen)
        }
        return try (0..<o.pairs).map { i in
            DPOPair(id: "\(i)", chosen: try example(), rejected: try example(), referenceChosen: -Double(o.seqLen), referenceRejected: -Double(o.seqLen))
        }
    }
}
