// `plumb bench ppo` without `--rollout-only`: the rollout half (PPOBench.measureRollouts), then the
// scoring and the update of the same iteration (PPOBench.swift says what each part runs).
//   update FLOPs = 2 (policy and critic) x micro-batches x the training count of rows x seqLen (ModelBenchmarks)
//   packing efficiency = the rollouts' tokens x epochs / (micro-batches x rows x seqLen)
import Foundation
import PlumbFiles
import PlumbModel
import PlumbTensor

extension PPOBench {
    public struct Report: Codable, Sendable {
        public var benchmark = "ppo"
        public var model: String
        public var prompts: Int, slots: Int, maxNewTokens: Int, promptLength: Int
        public var meanNewTokens: Double
        public var ppoEpochs: Int, miniBatches: Int, rows: Int
        /// The fastest rollout's seconds.
        public var rolloutSeconds: Double
        public var scoringSeconds: Double, updateSeconds: Double
        /// rollout + scoring + update.
        public var iterationSeconds: Double
        public var rolloutTokensPerSecond: Double
        public var anchorSampleTokensPerSecond: [Double]
        public var rolloutOverAnchor: Double
        public var updateMicroBatches: Int
        public var updateGflop: Double, updateAchievedGflops: Double
        public var packingEfficiency: Double
        public var sgemmCeilingGflops: Double, updateFractionOfCeiling: Double
        public var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case benchmark, model, prompts, slots, maxNewTokens = "max_new_tokens", promptLength = "prompt_length", meanNewTokens = "mean_new_tokens"
            case ppoEpochs = "ppo_epochs", miniBatches = "mini_batches", rows, rolloutSeconds = "rollout_seconds", scoringSeconds = "scoring_seconds"
            case updateSeconds = "update_seconds", iterationSeconds = "iteration_seconds", rolloutTokensPerSecond = "rollout_tokens_per_second"
            case anchorSampleTokensPerSecond = "anchor_sample_tokens_per_second", rolloutOverAnchor = "rollout_over_anchor"
            case updateMicroBatches = "update_micro_batches", updateGflop = "update_gflop", updateAchievedGflops = "update_achieved_gflops"
            case packingEfficiency = "packing_efficiency", sgemmCeilingGflops = "sgemm_ceiling_gflops"
            case updateFractionOfCeiling = "update_fraction_of_ceiling", peakRSSBytes = "peak_rss_bytes"
        }
    }

    /// The ppo stage's settings for the bench: PPOParameters' defaults, the bench's prompts, epochs,
    /// mini-batches and rows.
    public static func settings(_ o: Options) -> PPOSettings {
        var p = PPOParameters()
        (p.promptsPerIteration, p.ppoEpochs, p.miniBatches, p.rows) = (o.prompts, o.epochs, o.miniBatches, o.rows)
        return p.settings
    }

    /// One iteration: the rollout half, the scoring, GAE (the stage's), the update (the stage's phase 3).
    public static func run(model: LlamaModel, description: String, _ o: Options) throws -> WithDecodeFigures<Report> {
        let bench = try rollouts(model: model, description: description, o)
        let (sequences, half, figures) = try measureRollouts(bench, o)
        let settings = Self.settings(o)
        var rollouts = try bench.rollouts(sequences)
        let start = monotonicSeconds()
        try bench.score(&rollouts, sequences: sequences, critic: true)
        PPORollouts.computeAdvantages(&rollouts, estimation: .ppo, beta: settings.beta, settings: settings)
        let scoringSeconds = monotonicSeconds() - start

        let update = PPOUpdate(policy: bench.policyPass, critic: bench.criticPass, settings: settings, estimation: .ppo)
        let microBatches = (0..<o.epochs).flatMap { PPOOptimisation.miniBatches(count: rollouts.count, iteration: 0, epoch: $0, settings: settings) }
            .reduce(0) { $0 + update.microBatches(rollouts, indices: $1).count }
        let before = GemmBenchmark.ceiling(sizes: o.ceilingSizes, repetitions: 3)
        let updateSeconds = try BenchRollouts.optimise(rollouts, update: update, settings: settings).seconds
        let after = GemmBenchmark.ceiling(sizes: o.ceilingSizes, repetitions: 3)
        let ceiling = max(before.gflops, after.gflops)
        let flops = 2 * Double(microBatches) * ModelBenchmarks.trainingFlops(bench.config, batchSize: o.rows, seqLen: bench.seqLen)
        let usedTokens = rollouts.reduce(0) { $0 + $1.example.tokens.count } * o.epochs
        let rolloutSeconds = half.rolloutSeconds.min()!
        let report = Report(model: description, prompts: o.prompts, slots: half.slots, maxNewTokens: o.newTokens, promptLength: o.promptLength,
                            meanNewTokens: half.meanNewTokens, ppoEpochs: o.epochs, miniBatches: o.miniBatches, rows: o.rows,
                            rolloutSeconds: rolloutSeconds, scoringSeconds: scoringSeconds, updateSeconds: updateSeconds,
                            iterationSeconds: rolloutSeconds + scoringSeconds + updateSeconds, rolloutTokensPerSecond: half.rolloutTokensPerSecond,
                            anchorSampleTokensPerSecond: half.anchorSampleTokensPerSecond, rolloutOverAnchor: half.rolloutOverAnchor,
                            updateMicroBatches: microBatches, updateGflop: flops / 1e9, updateAchievedGflops: flops / updateSeconds / 1e9,
                            packingEfficiency: Double(usedTokens) / Double(microBatches * o.rows * bench.seqLen),
                            sgemmCeilingGflops: ceiling, updateFractionOfCeiling: flops / updateSeconds / 1e9 / ceiling,
                            peakRSSBytes: peakRSSBytes() ?? -1)
        return WithDecodeFigures(report, figures)
    }
}
