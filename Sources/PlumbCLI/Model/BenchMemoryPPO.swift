// `plumb bench memory --mode lora-ppo`: one PPO iteration with the five roles on one frozen base, as
// `plumb ppo --lora` holds them (PPOAdapters), with random weights:
//   base       the preset's shape, fp32 (or the projections bf16: --base bf16), values only (no gradient arena)
//   policy     a fresh adapter (PEFT's init, B = 0); the reference is the bare base
//   critic     an adapter with a value head
//   reward     two adapters with reward heads (B drawn N(0, 0.02), so they are not the base)
// and the iteration through the stage's own code: the rollout (Generator through the policy's adapter,
// P random prompts of T - N tokens, N new tokens each, no stop token so every sequence has T tokens),
// the scoring (ResponseTokenPass for the policy, the reference and the critic, RewardScorer for both
// reward models, all sharing the policy's activations as the stage does), GAE, and PPO's update
// (PPOOptimisation: `epochs` passes, one mini-batch each, the Trainer's AdamW on both adapters).
// Peak RSS is read after each phase (the process's high-water mark so far).
import ArgumentParser
import Foundation
import PlumbData
import PlumbModel
import PlumbStages
import PlumbTensor

enum LoRAPPOMemoryBench {
    static let temperature: Float = 0.7

    static func run(config preset: LlamaConfig, seqLen: Int, prompts: Int, newTokens: Int, epochs: Int, lora: LoRASettings,
                    seed: UInt64) throws -> [String: Any] {
        guard newTokens >= 1, newTokens < seqLen, prompts >= 1, epochs >= 1 else {
            throw ValidationError("bench memory --mode lora-ppo: need 1 <= --new-tokens < --seq-len, --prompts >= 1 and --epochs >= 1")
        }
        let start = monotonicSeconds()
        let config = preset.with(maxSeqLen: max(preset.maxSeqLen, seqLen + 1))
        let (base, policy, critic, rewards) = try roles(config, lora: lora, seed: seed)
        let afterModels = peakRSSBytes() ?? -1

        // 1. Rollout: the policy's adapter decoded unmerged on the base.
        let promptLength = seqLen - newTokens
        var rng = SeededRNG(seed: seed &+ 20)
        let requests = (0..<prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<promptLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }, seed: UInt64(p))
        }
        let generator = try Generator(config: config, weights: base.weights, maxSequences: prompts, capacity: seqLen + 1, adapter: policy)
        var clock = monotonicSeconds()
        let sequences = try generator.generate(requests, options: GenerationOptions(maxNewTokens: newTokens,
                                                                                   sampling: .random(temperature: temperature, topK: 0, topP: 1)))
        let rolloutSeconds = monotonicSeconds() - clock
        let afterRollout = peakRSSBytes() ?? -1

        // 2. Scoring: every role's pass on the one base, sharing the policy's activations.
        let policyPass = try ResponseTokenPass(model: base, rows: 1, seqLen: seqLen, padToken: 0, adapter: policy)
        let referencePass = try ResponseTokenPass(model: base, rows: 1, seqLen: seqLen, padToken: 0, sharing: policyPass)
        let criticPass = try ResponseTokenPass(model: base, rows: 1, seqLen: seqLen, padToken: 0, adapter: critic, logits: false, sharing: policyPass)
        let scorers = try rewards.map {
            try RewardScorer(model: base, seqLen: seqLen, padToken: 0, adapter: $0, sharing: policyPass.sequencePasses)
        }
        var rollouts = try sequences.map { s in
            Rollout(promptID: "\(s.request)", safetyPrompt: false,
                    example: try ResponseLikelihood.example(TokenizedExample(tokens: requests[s.request].prompt + s.tokens, promptCount: promptLength),
                                                            seqLen: seqLen),
                    response: s.tokens, text: "", finished: true)
        }
        clock = monotonicSeconds()
        let examples = rollouts.map(\.example)
        let lp = try policyPass.logProbs(examples, logitScale: 1 / temperature, entropies: true)
        let ref = try referencePass.logProbs(examples, logitScale: 1 / temperature, entropies: false)
        let values = try criticPass.values(examples)
        let scores = try scorers.map { try $0.scores(sequences.map { requests[$0.request].prompt + $0.tokens }) }
        let scoringSeconds = monotonicSeconds() - clock
        var policyVsReference: Float = 0
        for i in rollouts.indices {
            rollouts[i].logProbs = lp[i].logProbs
            rollouts[i].referenceLogProbs = ref[i].logProbs
            rollouts[i].values = values[i]
            rollouts[i].score = Double(scores[0][i] - scores[1][i])
            for (a, b) in zip(lp[i].logProbs, ref[i].logProbs) { policyVsReference = max(policyVsReference, abs(a - b)) }
        }
        let afterScoring = peakRSSBytes() ?? -1
        var settings = PPOSettings()
        (settings.ppoEpochs, settings.miniBatches, settings.promptsPerIteration, settings.rows) = (epochs, 1, prompts, 1)
        settings.sampling.temperature = temperature
        rollouts.computeAdvantages(beta: settings.beta, estimator: settings.klEstimator, gamma: settings.gamma, lambda: settings.lambda)

        // 3. The update: both adapters, the stage's phase 3.
        clock = monotonicSeconds()
        let steps = try optimise(rollouts, policy: policyPass, critic: criticPass, settings: settings)
        let updateSeconds = monotonicSeconds() - clock
        let scalar = MemoryLayout<Float>.stride
        return [
            "prompts": prompts, "new_tokens": newTokens, "prompt_length": promptLength, "ppo_epochs": epochs,
            "rollout_seconds": rolloutSeconds, "scoring_seconds": scoringSeconds, "update_seconds": updateSeconds,
            "iteration_seconds": rolloutSeconds + scoringSeconds + updateSeconds,
            "base_parameters": base.weightCount, "base_bytes": base.weightBytes, "base_dtype": base.baseDType.rawValue,
            "base_gradient_bytes": base.parameters.gradients.count * scalar,
            "adapter_parameters": [policy, critic].map(\.parameters.totalCount) + rewards.map(\.parameters.totalCount),
            "trained_parameters": policy.parameters.trainableCount + critic.parameters.trainableCount,
            "optimizer_bytes": policy.optimizerBytes + critic.optimizerBytes,
            "policy_vs_reference_max_logprob_difference": Double(policyVsReference),
            "losses": [steps.lossSum / Double(max(steps.norms.count, 1))],
            "peak_rss_after_models": afterModels, "peak_rss_after_rollout": afterRollout, "peak_rss_after_scoring": afterScoring,
            "wall_seconds": monotonicSeconds() - start,
        ]
    }

    /// The frozen base (random, std 0.02, no gradient arena) and the four adapters on it: the policy
    /// (fresh), the critic (value head), two reward models (reward heads, B drawn N(0, 0.02), frozen).
    static func roles(_ config: LlamaConfig, lora: LoRASettings, seed: UInt64) throws
        -> (base: LlamaModel, policy: LoRAAdapter, critic: LoRAAdapter, rewards: [LoRAAdapter]) {
        let base = try LlamaModel(config: config, heads: .lm, gradients: false, baseDType: lora.baseDType)
        base.initialize(seed: seed)   // bf16: the fp32 draws rounded
        let policy = try LoRAAdapter(config: config, settings: lora, seed: seed &+ 1)
        let critic = try LoRAAdapter(config: config, settings: lora, heads: .value, seed: seed &+ 2)
        let rewards = try (0..<2).map { i -> LoRAAdapter in
            let a = try LoRAAdapter(config: config, settings: lora, heads: .reward, seed: seed &+ 3 &+ UInt64(i))
            var rng = SeededRNG(seed: seed &+ 10 &+ UInt64(i))
            for m in a.allModules { rng.fillNormal(m.b, std: 0.02) }
            a.setTrainable(false)
            return a
        }
        return (base, policy, critic, rewards)
    }

    /// PPO's phase 3 as the stage runs it (PPOOptimisation) on the two adapters' Trainer groups.
    static func optimise(_ rollouts: [Rollout], policy: ResponseTokenPass, critic: ResponseTokenPass,
                         settings: PPOSettings) throws -> PPOOptimisation.Steps {
        let update = PPOUpdate(policy: policy, critic: critic, loss: settings.loss, temperature: temperature)
        let checkpoints = FileManager.default.temporaryDirectory.appendingPathComponent("bench-memory-ppo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: checkpoints) }
        let trainer = try Trainer(groups: [.init(name: "policy", model: policy.model, adapter: policy.adapter, optimization: settings.policyOptimization),
                                           .init(name: "value", model: critic.model, adapter: critic.adapter, optimization: settings.valueOptimization)],
                                  totalSteps: settings.stepsPerIteration, checkpointRoot: checkpoints, keepCheckpoints: 1)
        var guardRail = NonFiniteGuard(limit: settings.maxConsecutiveNonFinite)
        return try PPOOptimisation.optimise(rollouts, iteration: 0, settings: settings, update: update, trainer: trainer,
                                            guardRail: &guardRail, checkpoints: checkpoints)
    }
}
