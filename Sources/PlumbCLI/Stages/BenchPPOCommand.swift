// `plumb bench ppo`: one PPO iteration's three parts on one model shape, through the stage's own code,
// against anchors measured in the same run:
//   rollout: P prompts, one response each, lengths varied by a share of the vocabulary that stops a
//     sequence, decoded with continuous batching on `slots` cache slots (P by default: all at once);
//     anchor: `bench sample`'s computation on P slots (every sequence to the full length) - runs
//     alternate; each prints its prefill and decoding seconds, steps and mean rows per step;
//   scoring: the policy's and the reference's log-probabilities and the critic's values through the
//     training forward pass (ResponseTokenPass), and both reward models (RewardScorer);
//   update: the stage's own phase 3 (PPOOptimisation.optimise: `epochs` passes of PPOUpdate, policy and
//     critic forward and backward, the Trainer's step per mini-batch, PPOSettings' defaults otherwise);
//     its FLOPs (the training count of the batches computed, both models) against the sgemm ceiling
//     measured before and after.
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel
import PlumbStages
import PlumbTensor

struct BenchPPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo", abstract: "PPO iteration throughput (rollout, scoring, update) against bench sample and the sgemm ceiling.")

    @OptionGroup var source: ModelSourceOptions
    @Option(help: "Prompts (one response each) per iteration.") var prompts = 64
    @Option(help: "Most new tokens per response.") var newTokens = 128
    @Option(help: "Tokens per (random) prompt.") var promptLength = 32
    @Option(help: "Share of the vocabulary that stops a sequence (lengths vary).") var stopShare = 1.0 / 64
    @Option(help: "PPO epochs.") var epochs = 4
    @Option(help: "Mini-batches per epoch.") var miniBatches = 4
    @Option(help: "Rows of the training forward passes.") var rows = 8
    @Option(help: "Alternating repeats of the rollout and its anchor.") var repeats = 2
    @Option(help: "Sequences the rollout decodes at once (default: every prompt; fewer refill finished slots with waiting prompts).")
    var slots: Int?
    @Flag(help: "Measure the rollout and its anchor only (no scoring, no update).") var rolloutOnly = false

    func validate() throws {
        if let slots, slots < 1 || slots > prompts { throw ValidationError("--slots must be in 1...\(prompts) (--prompts)") }
    }

    func run() throws {
        let seqLen = promptLength + newTokens
        try source.checkBench("bench ppo", positions: seqLen + 1, option: "--prompt-length + --new-tokens") {
            BenchBudget.ppoBytes($0, prompts: prompts, rows: rows, seqLen: seqLen + 1)
        }
        let bench = try BenchRollouts(source: source, prompts: prompts, samples: 1, promptLength: promptLength, newTokens: newTokens,
                                      stopShare: stopShare, rows: rows, slots: slots)
        var rolloutSeconds: [Double] = [], anchor: [Double] = []
        var sequences: [GeneratedSequence] = []
        var decodeStats: [String: Any] = [:]
        for _ in 0..<repeats {
            var start = monotonicSeconds()
            sequences = try bench.decode(newTokens: newTokens)
            rolloutSeconds.append(monotonicSeconds() - start)
            if rolloutSeconds.last! == rolloutSeconds.min()! { decodeStats.merge(BenchRollouts.statsFields("rollout", bench.generator.stats)) { $1 } }
            start = monotonicSeconds()
            let made = try bench.decode(newTokens: newTokens, stopping: false)
            anchor.append(Double(made.reduce(0) { $0 + $1.tokens.count }) / (monotonicSeconds() - start))
            if anchor.last! == anchor.max()! { decodeStats.merge(BenchRollouts.statsFields("anchor", bench.anchorGenerator.stats)) { $1 } }
        }
        let newTokenCount = sequences.reduce(0) { $0 + $1.tokens.count }
        let rolloutRate = Double(newTokenCount) / rolloutSeconds.min()!
        if rolloutOnly {
            try printJSON(decodeStats.merging([
                "benchmark": "ppo-rollout", "model": source.description, "prompts": prompts, "slots": slots ?? prompts,
                "max_new_tokens": newTokens, "prompt_length": promptLength, "mean_new_tokens": Double(newTokenCount) / Double(prompts),
                "rollout_seconds": rolloutSeconds, "rollout_tokens_per_second": rolloutRate, "anchor_sample_tokens_per_second": anchor,
                "rollout_over_anchor": rolloutRate / anchor.max()!, "peak_rss_bytes": peakRSSBytes() ?? -1,
            ]) { $1 })
            return
        }
        var rollouts = try bench.rollouts(sequences)
        var start = monotonicSeconds()
        try bench.score(&rollouts, sequences: sequences, critic: true)
        let scoringSeconds = monotonicSeconds() - start
        let defaults = PPOSettings()
        rollouts.computeAdvantages(beta: defaults.beta, estimator: defaults.klEstimator, gamma: defaults.gamma, lambda: defaults.lambda)

        // Phase 3 as the stage runs it (PPOOptimisation): its mini-batches, its Trainer steps, its settings.
        var ppo = PPOSettings()
        (ppo.ppoEpochs, ppo.miniBatches, ppo.promptsPerIteration, ppo.rows) = (epochs, miniBatches, prompts, rows)
        ppo.sampling.temperature = BenchRollouts.temperature
        let update = PPOUpdate(policy: bench.policyPass, critic: bench.criticPass, loss: ppo.loss, temperature: ppo.sampling.temperature)
        let checkpoints = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ppo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: checkpoints) }
        let trainer = try Trainer(groups: [.init(name: "policy", model: bench.policy, optimization: ppo.policyOptimization),
                                           .init(name: "value", model: bench.critic, optimization: ppo.valueOptimization)],
                                  totalSteps: ppo.stepsPerIteration, checkpointRoot: checkpoints, keepCheckpoints: 1)
        let microBatches = (0..<epochs).flatMap { PPOOptimisation.miniBatches(count: rollouts.count, iteration: 0, epoch: $0, settings: ppo) }
            .reduce(0) { $0 + update.microBatches(rollouts, indices: $1).count }
        let before = GemmBenchmark.ceiling(sizes: [1024, 2048], repetitions: 3)
        var guardRail = NonFiniteGuard(limit: ppo.maxConsecutiveNonFinite)
        start = monotonicSeconds()
        _ = try PPOOptimisation.optimise(rollouts, iteration: 0, settings: ppo, update: update, trainer: trainer, guardRail: &guardRail,
                                         checkpoints: checkpoints)
        let updateSeconds = monotonicSeconds() - start
        let after = GemmBenchmark.ceiling(sizes: [1024, 2048], repetitions: 3)
        let ceiling = max(before.gflops, after.gflops)
        // Both models' forward and backward over every micro-batch's rows x seqLen positions.
        let flops = 2 * Double(microBatches) * ModelBenchmarks.trainingFlops(bench.config, batchSize: rows, seqLen: seqLen)
        let usedTokens = rollouts.reduce(0) { $0 + $1.example.tokens.count } * epochs
        try printJSON(decodeStats.merging([
            "benchmark": "ppo", "model": source.description, "prompts": prompts, "slots": slots ?? prompts, "max_new_tokens": newTokens, "prompt_length": promptLength,
            "mean_new_tokens": Double(newTokenCount) / Double(prompts), "ppo_epochs": epochs, "mini_batches": miniBatches, "rows": rows,
            "rollout_seconds": rolloutSeconds.min()!, "scoring_seconds": scoringSeconds, "update_seconds": updateSeconds,
            "iteration_seconds": rolloutSeconds.min()! + scoringSeconds + updateSeconds,
            "rollout_tokens_per_second": rolloutRate, "anchor_sample_tokens_per_second": anchor,
            "rollout_over_anchor": rolloutRate / anchor.max()!,
            "update_micro_batches": microBatches, "update_gflop": flops / 1e9, "update_achieved_gflops": flops / updateSeconds / 1e9,
            "packing_efficiency": Double(usedTokens) / Double(microBatches * rows * seqLen),
            "sgemm_ceiling_gflops": ceiling, "update_fraction_of_ceiling": flops / updateSeconds / 1e9 / ceiling,
            "peak_rss_bytes": peakRSSBytes() ?? -1,
        ]) { $1 })
    }
}
