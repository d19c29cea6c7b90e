// `plumb bench rl`: seconds per iteration of each estimator of the `rl` stage on the same rollouts,
// PPO (with its critic) as the anchor, measured in one process on one machine, the estimators
// alternating within every repeat, each repeat starting one estimator later (ppo rloo grpo r++,
// rloo grpo r++ ppo, ...):
//   rollout: P prompts x k responses, decoded once with continuous batching (lengths varied by a
//     share of the vocabulary that stops a sequence); every estimator's iteration samples the same
//     responses, so this time is the same for all of them and is added to each;
//   scoring: the policy's and the reference's log-probabilities, the critic's values (ppo only) and
//     both reward models, through the stage's own passes (ResponseTokenPass, RewardScorer);
//   advantages: the stage's (PPORollouts.computeAdvantages: GAE for ppo, the estimator's baseline else);
//   update: the stage's phase 3 with the rl stage's parameters (RLStage.Parameters' defaults but for
//     the estimator, the group size, the prompts, epochs, mini-batches and rows given; GRPO with its
//     KL in the loss, the others in the reward): PPOUpdate as the stage builds it, the stage's Trainer,
//     PPOOptimisation.optimise; equal rollouts, equal steps for every estimator.
// The policy and the critic start each measured iteration from the same weights.
import Foundation
import PlumbFiles
import PlumbModel
import PlumbTensor

public enum RLBench {
    public struct Options: Sendable {
        public var prompts = 16
        /// Responses per prompt (every estimator gets the same prompts x group-size responses).
        public var groupSize = 4
        public var newTokens = 64
        public var promptLength = 32
        public var stopShare = 1.0 / 64
        /// Passes over each iteration's responses, and mini-batches per pass (one optimiser step each).
        public var epochs = 2
        public var miniBatches = 2
        public var rows = 8
        /// Repeats; within each, the estimators alternate.
        public var repeats = 3
        /// Sequences the rollout decodes at once (nil: every response).
        public var slots: Int?
        public var seed: UInt64 = 0
        public init() {}

        public var seqLen: Int { promptLength + newTokens }
        public func estimatedBytes(_ config: LlamaConfig) -> Int {
            BenchBudget.ppoBytes(config, prompts: prompts * groupSize, rows: rows, seqLen: seqLen + 1)
        }
    }

    public struct Report: Codable, Sendable {
        public var benchmark = "rl"
        public var model: String
        public var prompts: Int, groupSize: Int, responses: Int
        public var maxNewTokens: Int, meanNewTokens: Double
        public var epochs: Int, miniBatches: Int, rows: Int, repeats: Int
        public var rolloutSeconds: Double
        public var anchor = "ppo"
        public var slots: Int
        public var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case benchmark, model, prompts, groupSize = "group_size", responses, maxNewTokens = "max_new_tokens", meanNewTokens = "mean_new_tokens"
            case epochs, miniBatches = "mini_batches", rows, repeats, rolloutSeconds = "rollout_seconds", anchor, slots, peakRSSBytes = "peak_rss_bytes"
        }
    }

    /// The rl stage's settings for `estimator`, and its estimation.
    public static func settings(_ o: Options, estimator: RLEstimator) -> (PPOSettings, RLEstimation) {
        var p = RLStage.Parameters()
        (p.estimator, p.groupSize, p.klIn) = (estimator, o.groupSize, estimator == .grpo ? .loss : .reward)
        (p.ppo.promptsPerIteration, p.ppo.ppoEpochs, p.ppo.miniBatches, p.ppo.rows) = (o.prompts, o.epochs, o.miniBatches, o.rows)
        return (p.settings, p.estimation)
    }

    public static func run(model: LlamaModel, description: String, _ o: Options) throws -> WithEstimatorFigures {
        let bench = try BenchRollouts(model: model, description: description, seed: o.seed, prompts: o.prompts, samples: o.groupSize,
                                      promptLength: o.promptLength, newTokens: o.newTokens, stopShare: o.stopShare, rows: o.rows, slots: o.slots)
        let initialCritic = try bench.critic.tensors()
        let start = monotonicSeconds()
        let sequences = try bench.decode(newTokens: o.newTokens)
        let rolloutSeconds = monotonicSeconds() - start
        let template = try bench.rollouts(sequences)

        /// One iteration after the rollout: (scoring + advantages seconds, update seconds).
        func iteration(_ estimator: RLEstimator) throws -> (Double, Double) {
            try bench.policy.load(bench.tensors, source: description, allowMissingHeads: true)
            try bench.critic.load(initialCritic, source: "critic")
            let (settings, estimation) = RLBench.settings(o, estimator: estimator)
            let withCritic = estimator.needsCritic
            var rollouts = template
            let start = monotonicSeconds()
            try bench.score(&rollouts, sequences: sequences, critic: withCritic)
            PPORollouts.computeAdvantages(&rollouts, estimation: estimation, beta: settings.beta, settings: settings)
            let scoring = monotonicSeconds() - start
            let update = PPOUpdate(policy: bench.policyPass, critic: withCritic ? bench.criticPass : nil, settings: settings, estimation: estimation)
            return (scoring, try BenchRollouts.optimise(rollouts, update: update, settings: settings).seconds)
        }

        var measured: [RLEstimator: [(Double, Double)]] = [:]
        // Repeat r starts at estimator r (mod 4), so no estimator always runs first or after the same one.
        let all = RLEstimator.allCases
        for r in 0..<o.repeats {
            for j in all.indices {
                let estimator = all[(r + j) % all.count]
                measured[estimator, default: []].append(try iteration(estimator))
            }
        }
        let report = Report(model: description, prompts: o.prompts, groupSize: o.groupSize, responses: sequences.count, maxNewTokens: o.newTokens,
                            meanNewTokens: Double(sequences.reduce(0) { $0 + $1.tokens.count }) / Double(sequences.count),
                            epochs: o.epochs, miniBatches: o.miniBatches, rows: o.rows, repeats: o.repeats, rolloutSeconds: rolloutSeconds,
                            slots: o.slots ?? o.prompts * o.groupSize, peakRSSBytes: peakRSSBytes() ?? -1)
        return WithEstimatorFigures(report: report, estimators: EstimatorFigures.all(measured, rolloutSeconds: rolloutSeconds),
                                    rollout: DecodeFigures("rollout", bench.generator.stats))
    }
}
