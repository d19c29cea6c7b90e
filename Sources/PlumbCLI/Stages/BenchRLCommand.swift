// `plumb bench rl`: seconds per iteration of each estimator of the `rl` stage on the same rollouts,
// PPO (with its critic) as the anchor, measured in one process on one machine, the estimators
// alternating within every repeat, each repeat starting one estimator later (ppo rloo grpo r++,
// rloo grpo r++ ppo, ...):
//   rollout: P prompts x k responses, decoded once with continuous batching (lengths varied by a
//     share of the vocabulary that stops a sequence); every estimator's iteration samples the same
//     responses, so this time is the same for all of them and is added to each;
//   scoring: the policy's and the reference's log-probabilities, the critic's values (ppo only) and
//     both reward models, through the stage's own passes (ResponseTokenPass, RewardScorer);
//   advantages: GAE and whitening (ppo), GroupAdvantages (the others);
//   update: the stage's phase 3 (PPOOptimisation.optimise over PPOUpdate, the policy and for ppo the
//     critic, the Trainer's step per mini-batch), `epochs` passes of `mini-batches` steps for every
//     estimator (equal rollouts, equal steps).
// The policy starts each measured iteration from the same weights.
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel
import PlumbStages
import PlumbTensor

struct BenchRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rl", abstract: "Seconds per iteration of the rl stage's estimators (rloo, grpo, reinforce++) against PPO's on the same rollouts.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Prompts per iteration.") var prompts = 16
    @Option(help: "Responses per prompt (every estimator gets the same prompts x group-size responses).") var groupSize = 4
    @Option(help: "Most new tokens per response.") var newTokens = 64
    @Option(help: "Tokens per (random) prompt.") var promptLength = 32
    @Option(help: "Share of the vocabulary that stops a sequence (lengths vary).") var stopShare = 1.0 / 64
    @Option(help: "Passes over each iteration's responses.") var epochs = 2
    @Option(help: "Mini-batches per pass (one optimiser step each).") var miniBatches = 2
    @Option(help: "Rows of the training forward passes.") var rows = 8
    @Option(help: "Repeats; within each, the estimators alternate.") var repeats = 3
    @Option(help: "Sequences the rollout decodes at once (default: every response; fewer refill finished slots).") var slots: Int?

    func validate() throws {
        if let slots, slots < 1 || slots > prompts * groupSize { throw ValidationError("--slots must be in 1...\(prompts * groupSize) (--prompts x --group-size)") }
    }

    func run() throws {
        let seqLen = promptLength + newTokens
        try source.checkBench("bench rl", positions: seqLen + 1, option: "--prompt-length + --new-tokens") {
            BenchBudget.ppoBytes($0, prompts: prompts * groupSize, rows: rows, seqLen: seqLen + 1)
        }
        let bench = try BenchRollouts(source: source, prompts: prompts, samples: groupSize, promptLength: promptLength, newTokens: newTokens,
                                      stopShare: stopShare, rows: rows, slots: slots)
        let initialCritic = try bench.critic.tensors()
        let start = monotonicSeconds()
        let sequences = try bench.decode(newTokens: newTokens)
        let rolloutSeconds = monotonicSeconds() - start
        let template = try bench.rollouts(sequences)
        var settings = PPOSettings()
        (settings.ppoEpochs, settings.miniBatches, settings.promptsPerIteration, settings.rows) = (epochs, miniBatches, prompts * groupSize, rows)
        settings.sampling.temperature = BenchRollouts.temperature
        let checkpoints = FileManager.default.temporaryDirectory.appendingPathComponent("bench-rl-\(getpid())")
        defer { try? FileManager.default.removeItem(at: checkpoints) }

        /// One iteration after the rollout: (scoring + advantages seconds, update seconds).
        func iteration(_ estimator: RLEstimator) throws -> (Double, Double) {
            try bench.policy.load(bench.tensors, source: source.description, allowMissingHeads: true)
            try bench.critic.load(initialCritic, source: "critic")
            let estimation = RLEstimation(estimator: estimator, groupSize: groupSize, klIn: estimator == .grpo ? .loss : .reward)
            let withCritic = estimator.needsCritic
            var rollouts = template
            var start = monotonicSeconds()
            try bench.score(&rollouts, sequences: sequences, critic: withCritic)
            if withCritic {
                rollouts.computeAdvantages(beta: settings.beta, estimator: settings.klEstimator, gamma: settings.gamma, lambda: settings.lambda)
            } else {
                rollouts.computeCriticFreeAdvantages(estimation, beta: estimation.rewardBeta(settings.beta), klEstimator: settings.klEstimator)
            }
            let scoring = monotonicSeconds() - start
            let update = PPOUpdate(policy: bench.policyPass, critic: withCritic ? bench.criticPass : nil, loss: settings.loss,
                                   lossKL: estimation.klIn == .loss ? LossKL(estimator: .k3, beta: settings.beta) : nil,
                                   temperature: BenchRollouts.temperature)
            var groups = [Trainer.Group(name: "policy", model: bench.policy, optimization: settings.policyOptimization)]
            if withCritic { groups.append(.init(name: "value", model: bench.critic, optimization: settings.valueOptimization)) }
            let trainer = try Trainer(groups: groups, totalSteps: settings.stepsPerIteration, checkpointRoot: checkpoints, keepCheckpoints: 1)
            var guardRail = NonFiniteGuard(limit: settings.maxConsecutiveNonFinite)
            start = monotonicSeconds()
            _ = try PPOOptimisation.optimise(rollouts, iteration: 0, settings: settings, update: update, trainer: trainer, guardRail: &guardRail,
                                             checkpoints: checkpoints)
            return (scoring, monotonicSeconds() - start)
        }

        var measured: [RLEstimator: [(Double, Double)]] = [:]
        // Repeat r starts at estimator r (mod 4), so no estimator always runs first or after the same one.
        let all = RLEstimator.allCases
        for r in 0..<repeats {
            for j in all.indices {
                let estimator = all[(r + j) % all.count]
                measured[estimator, default: []].append(try iteration(estimator))
            }
        }
        /// The median over repeats of rollout + scoring + update, and the least disturbed: rollout +
        /// the fastest scoring + the fastest update (other processes on a shared machine only add time).
        func median(_ x: [Double]) -> Double { let s = x.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        let seconds = measured.mapValues { runs in median(runs.map { rolloutSeconds + $0.0 + $0.1 }) }
        let fastest = measured.mapValues { runs in rolloutSeconds + runs.map(\.0).min()! + runs.map(\.1).min()! }
        var out: [String: Any] = [
            "benchmark": "rl", "model": source.description, "prompts": prompts, "group_size": groupSize, "responses": sequences.count,
            "max_new_tokens": newTokens, "mean_new_tokens": Double(sequences.reduce(0) { $0 + $1.tokens.count }) / Double(sequences.count),
            "epochs": epochs, "mini_batches": miniBatches, "rows": rows, "repeats": repeats, "rollout_seconds": rolloutSeconds,
            "anchor": "ppo", "slots": slots ?? prompts * groupSize,
        ]
        out.merge(BenchRollouts.statsFields("rollout", bench.generator.stats)) { $1 }
        for (estimator, runs) in measured {
            let name = estimator.rawValue
            out["\(name)_scoring_seconds"] = runs.map(\.0)
            out["\(name)_update_seconds"] = runs.map(\.1)
            out["\(name)_iteration_seconds"] = seconds[estimator]!
            out["\(name)_over_ppo"] = seconds[estimator]! / seconds[.ppo]!
            out["\(name)_update_over_ppo"] = median(runs.map(\.1)) / median(measured[.ppo]!.map(\.1))
            out["\(name)_fastest_iteration_seconds"] = fastest[estimator]!
            out["\(name)_fastest_over_ppo"] = fastest[estimator]! / fastest[.ppo]!
        }
        out["peak_rss_bytes"] = peakRSSBytes() ?? -1
        try printJSON(out)
    }
}
