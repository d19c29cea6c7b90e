// `plumb bench ppo`: one PPO iteration's three parts on one model shape, through the stage's own code,
// against anchors measured in the same run:
//   rollout: P prompts, one response each, lengths varied by a share of the vocabulary that stops a
//     sequence, decoded with continuous batching on `slots` cache slots (P by default: all at once);
//     anchor: `bench sample`'s computation on P slots (every sequence to the full length) - runs
//     alternate; each reports its prefill and decoding seconds, steps and mean rows per step;
//   scoring: the policy's and the reference's log-probabilities and the critic's values through the
//     training forward pass (ResponseTokenPass), and both reward models (RewardScorer);
//   update: the stage's phase 3 with the ppo stage's parameters (PPOParameters' defaults but for the
//     prompts, epochs, mini-batches and rows given): PPOUpdate as the stage builds it, the stage's
//     Trainer (PPOLoop.trainer), PPOOptimisation.optimise; its FLOPs (the training count of the
//     batches computed, both models) against the sgemm ceiling measured before and after.
import Foundation
import PlumbFiles
import PlumbModel
import PlumbTensor

public enum PPOBench {
    public struct Options: Sendable {
        public var prompts = 64
        /// Most new tokens per response.
        public var newTokens = 128
        /// Tokens per (random) prompt.
        public var promptLength = 32
        /// Share of the vocabulary that stops a sequence (lengths vary).
        public var stopShare = 1.0 / 64
        public var epochs = 4
        public var miniBatches = 4
        /// Rows of the training forward passes.
        public var rows = 8
        /// Alternating repeats of the rollout and its anchor.
        public var repeats = 2
        /// Sequences the rollout decodes at once (nil: every prompt).
        public var slots: Int?
        /// Seed of the model source (prompts from seed + 7).
        public var seed: UInt64 = 0
        /// The square sizes of the sgemm ceiling probe (before and after the update).
        public var ceilingSizes = [1024, 2048]
        public init() {}

        public var seqLen: Int { promptLength + newTokens }
        public func estimatedBytes(_ config: LlamaConfig) -> Int {
            BenchBudget.ppoBytes(config, prompts: prompts, rows: rows, seqLen: seqLen + 1)
        }
    }

    /// The rollout half: `bench ppo --rollout-only`'s whole report.
    public struct RolloutReport: Codable, Sendable {
        public var benchmark = "ppo-rollout"
        public var model: String
        public var prompts: Int, slots: Int, maxNewTokens: Int, promptLength: Int
        public var meanNewTokens: Double
        /// Each repeat's rollout seconds.
        public var rolloutSeconds: [Double]
        /// New tokens / the fastest rollout.
        public var rolloutTokensPerSecond: Double
        public var anchorSampleTokensPerSecond: [Double]
        /// rollout_tokens_per_second / the fastest anchor.
        public var rolloutOverAnchor: Double
        public var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case benchmark, model, prompts, slots, maxNewTokens = "max_new_tokens", promptLength = "prompt_length", meanNewTokens = "mean_new_tokens"
            case rolloutSeconds = "rollout_seconds", rolloutTokensPerSecond = "rollout_tokens_per_second"
            case anchorSampleTokensPerSecond = "anchor_sample_tokens_per_second", rolloutOverAnchor = "rollout_over_anchor", peakRSSBytes = "peak_rss_bytes"
        }
        init(model: String, prompts: Int, slots: Int, maxNewTokens: Int, promptLength: Int, meanNewTokens: Double, rolloutSeconds: [Double],
             anchor rates: [Double], newTokens: Int, peakRSSBytes: Int) {
            (self.model, self.prompts, self.slots, self.maxNewTokens, self.promptLength) = (model, prompts, slots, maxNewTokens, promptLength)
            (self.meanNewTokens, self.rolloutSeconds, anchorSampleTokensPerSecond) = (meanNewTokens, rolloutSeconds, rates)
            rolloutTokensPerSecond = Double(newTokens) / rolloutSeconds.min()!
            rolloutOverAnchor = rolloutTokensPerSecond / rates.max()!
            self.peakRSSBytes = peakRSSBytes
        }
    }

    /// The rollout alone, alternated with its anchor `repeats` times; the fastest rollout's and the
    /// fastest anchor's decode figures beside the report.
    public static func rolloutOnly(model: LlamaModel, description: String, _ o: Options) throws -> WithDecodeFigures<RolloutReport> {
        let bench = try rollouts(model: model, description: description, o)
        let measured = try measureRollouts(bench, o)
        return WithDecodeFigures(measured.report, measured.figures)
    }

    static func rollouts(model: LlamaModel, description: String, _ o: Options) throws -> BenchRollouts {
        try BenchRollouts(model: model, description: description, seed: o.seed, prompts: o.prompts, samples: 1, promptLength: o.promptLength,
                          newTokens: o.newTokens, stopShare: o.stopShare, rows: o.rows, slots: o.slots)
    }

    /// The rollout and its anchor, alternating; the last rollout's sequences, the report of the rollout
    /// half and the decode figures of the fastest rollout and the fastest anchor.
    static func measureRollouts(_ bench: BenchRollouts, _ o: Options) throws
        -> (sequences: [GeneratedSequence], report: RolloutReport, figures: [DecodeFigures?]) {
        var rolloutSeconds: [Double] = [], anchor: [Double] = []
        var sequences: [GeneratedSequence] = []
        var rolloutFigures: DecodeFigures?, anchorFigures: DecodeFigures?
        for _ in 0..<max(o.repeats, 1) {
            var start = monotonicSeconds()
            sequences = try bench.decode(newTokens: o.newTokens)
            rolloutSeconds.append(monotonicSeconds() - start)
            if rolloutSeconds.last! == rolloutSeconds.min()! { rolloutFigures = DecodeFigures("rollout", bench.generator.stats) }
            start = monotonicSeconds()
            let made = try bench.decode(newTokens: o.newTokens, stopping: false)
            anchor.append(Double(made.reduce(0) { $0 + $1.tokens.count }) / (monotonicSeconds() - start))
            if anchor.last! == anchor.max()! { anchorFigures = DecodeFigures("anchor", bench.anchorGenerator.stats) }
        }
        let newTokens = sequences.reduce(0) { $0 + $1.tokens.count }
        let report = RolloutReport(model: bench.description, prompts: o.prompts, slots: o.slots ?? o.prompts, maxNewTokens: o.newTokens,
                                   promptLength: o.promptLength, meanNewTokens: Double(newTokens) / Double(o.prompts), rolloutSeconds: rolloutSeconds,
                                   anchor: anchor, newTokens: newTokens, peakRSSBytes: peakRSSBytes() ?? -1)
        return (sequences, report, [rolloutFigures, anchorFigures])
    }
}
