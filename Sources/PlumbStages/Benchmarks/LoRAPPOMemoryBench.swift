// `plumb bench memory --mode lora-ppo`: one PPO iteration with the five roles on one frozen base, as
// `plumb ppo --lora` holds them (PPOAdapters), with random weights:
//   base       the preset's shape, fp32 (or the projections bf16: --base bf16), values only (no gradient arena)
//   policy     a fresh adapter (PEFT's init, B = 0); the reference is the bare base
//   critic     an adapter with a value head
//   reward     two adapters with reward heads (B drawn N(0, 0.02), so they are not the base)
// and the iteration through the stage's own code: the rollout (Generator through the policy's adapter,
// P random prompts of T - N tokens, N new tokens each, no stop token so every sequence has T tokens),
// the scoring (ResponseTokenPass for the policy, the reference and the critic, RewardScorer for both
// reward models, all sharing the policy's activations as the stage does), GAE, and PPO's update with
// the ppo stage's parameters (PPOParameters' defaults; `epochs` passes of one mini-batch of rows 1):
// PPOUpdate as the stage builds it, the stage's Trainer on both adapters (PPOLoop.trainer).
// Peak RSS is read after each phase (the process's high-water mark so far).
import Foundation
import PlumbData
import PlumbFiles
import PlumbModel
import PlumbTensor

public enum LoRAPPOMemoryBench {
    public struct Report: Codable, Sendable {
        public var benchmark = "memory"
        public var preset: String, mode: String, seqLen: Int, lora: String, base: String
        public var prompts: Int, newTokens: Int, promptLength: Int, ppoEpochs: Int
        public var rolloutSeconds: Double, scoringSeconds: Double, updateSeconds: Double, iterationSeconds: Double
        public var baseParameters: Int, baseBytes: Int, baseDType: String, baseGradientBytes: Int
        /// The policy's, the critic's and both reward models' parameters.
        public var adapterParameters: [Int]
        public var trainedParameters: Int, optimizerBytes: Int
        /// The largest |log pi - log ref| of a response token: 0 for a fresh policy adapter (B = 0).
        public var policyVsReferenceMaxLogprobDifference: Double
        /// The update's mean loss over its steps.
        public var losses: [Double]
        public var peakRSSAfterModels: Int, peakRSSAfterRollout: Int, peakRSSAfterScoring: Int, peakRSSBytes: Int
        public var wallSeconds: Double
        enum CodingKeys: String, CodingKey {
            case benchmark, preset, mode, seqLen = "seq_len", lora, base, prompts, newTokens = "new_tokens", promptLength = "prompt_length"
            case ppoEpochs = "ppo_epochs", rolloutSeconds = "rollout_seconds", scoringSeconds = "scoring_seconds", updateSeconds = "update_seconds"
            case iterationSeconds = "iteration_seconds", baseParameters = "base_parameters", baseBytes = "base_bytes", baseDType = "base_dtype"
            case baseGradientBytes = "base_gradient_bytes", adapterParameters = "adapter_parameters", trainedParameters = "trained_parameters"
            case optimizerBytes = "optimizer_bytes", policyVsReferenceMaxLogprobDifference = "policy_vs_reference_max_logprob_difference", losses
            case peakRSSAfterModels = "peak_rss_after_models", peakRSSAfterRollout = "peak_rss_after_rollout"
            case peakRSSAfterScoring = "peak_rss_after_scoring", peakRSSBytes = "peak_rss_bytes", wallSeconds = "wall_seconds"
        }
    }

    /// The five roles on one base (`roles`), and the passes the stage shares among them.
    struct Roles {
        let base: LlamaModel, policy: LoRAAdapter, critic: LoRAAdapter, rewards: [LoRAAdapter]
    }

    /// The ppo stage's settings for the bench: `epochs` passes of one mini-batch, rows 1.
    static func settings(_ o: MemoryBench.Options) -> PPOSettings {
        var p = PPOParameters()
        (p.ppoEpochs, p.miniBatches, p.promptsPerIteration, p.rows) = (o.epochs, 1, o.prompts, 1)
        return p.settings
    }

    public static func run(_ o: MemoryBench.Options) throws -> Report {
        guard o.newTokens >= 1, o.newTokens < o.seqLen, o.prompts >= 1, o.epochs >= 1 else {
            throw BenchmarkError("bench memory --mode lora-ppo: need 1 <= --new-tokens < --seq-len, --prompts >= 1 and --epochs >= 1")
        }
        let start = monotonicSeconds()
        let lora = try o.loraSettings()
        let settings = Self.settings(o)
        let config = o.preset.config.with(maxSeqLen: max(o.preset.config.maxSeqLen, o.seqLen + 1))
        let r = try roles(config, lora: lora, seed: o.seed)
        let afterModels = peakRSSBytes() ?? -1

        // 1. Rollout: the policy's adapter decoded unmerged on the base.
        let promptLength = o.seqLen - o.newTokens
        var rng = SeededRNG(seed: o.seed &+ 20)
        let requests = (0..<o.prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<promptLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }, seed: UInt64(p))
        }
        let generator = try Generator(config: config, weights: r.base.weights, maxSequences: o.prompts, capacity: o.seqLen + 1, adapter: r.policy)
        var clock = monotonicSeconds()
        let sequences = try generator.generate(requests, options: GenerationOptions(maxNewTokens: o.newTokens,
            sampling: .random(temperature: settings.sampling.temperature, topK: 0, topP: 1)))
        let rolloutSeconds = monotonicSeconds() - clock
        let afterRollout = peakRSSBytes() ?? -1

        // 2. Scoring: every role's pass on the one base, sharing the policy's activations (timed without
        // making the passes); then GAE.
        let passes = try Passes(r, seqLen: o.seqLen)
        let texts = sequences.map { requests[$0.request].prompt + $0.tokens }
        var rollouts = try texts.enumerated().map { i, t in
            Rollout(promptID: "\(i)", safetyPrompt: false,
                    example: try ResponseLikelihood.example(TokenizedExample(tokens: t, promptCount: promptLength), seqLen: o.seqLen),
                    response: Array(t[promptLength...]), text: "", finished: true)
        }
        clock = monotonicSeconds()
        let difference = try score(&rollouts, texts: texts, passes, settings: settings)
        let scoringSeconds = monotonicSeconds() - clock
        let afterScoring = peakRSSBytes() ?? -1
        PPORollouts.computeAdvantages(&rollouts, estimation: .ppo, beta: settings.beta, settings: settings)

        // 3. The update: both adapters, the stage's phase 3.
        let update = PPOUpdate(policy: passes.policy, critic: passes.critic, settings: settings, estimation: .ppo)
        let (updateSeconds, steps) = try BenchRollouts.optimise(rollouts, update: update, settings: settings)
        return Report(preset: o.preset.rawValue, mode: o.mode.rawValue, seqLen: o.seqLen, lora: o.lora, base: lora.baseDType.rawValue,
                      prompts: o.prompts, newTokens: o.newTokens, promptLength: promptLength, ppoEpochs: o.epochs,
                      rolloutSeconds: rolloutSeconds, scoringSeconds: scoringSeconds, updateSeconds: updateSeconds,
                      iterationSeconds: rolloutSeconds + scoringSeconds + updateSeconds,
                      baseParameters: r.base.weightCount, baseBytes: r.base.weightBytes, baseDType: r.base.baseDType.rawValue,
                      baseGradientBytes: r.base.parameters.gradients.count * MemoryLayout<Float>.stride,
                      adapterParameters: [r.policy, r.critic].map(\.parameters.totalCount) + r.rewards.map(\.parameters.totalCount),
                      trainedParameters: r.policy.parameters.trainableCount + r.critic.parameters.trainableCount,
                      optimizerBytes: r.policy.optimizerBytes + r.critic.optimizerBytes,
                      policyVsReferenceMaxLogprobDifference: Double(difference),
                      losses: [steps.lossSum / Double(max(steps.norms.count, 1))],
                      peakRSSAfterModels: afterModels, peakRSSAfterRollout: afterRollout, peakRSSAfterScoring: afterScoring,
                      peakRSSBytes: peakRSSBytes() ?? -1, wallSeconds: monotonicSeconds() - start)
    }

    /// Every role's pass over the one base, sharing the policy's activations as the stage does.
    struct Passes {
        let policy: ResponseTokenPass, reference: ResponseTokenPass, critic: ResponseTokenPass
        let rewards: [RewardScorer]
        init(_ r: Roles, seqLen: Int) throws {
            policy = try ResponseTokenPass(model: r.base, rows: 1, seqLen: seqLen, padToken: 0, adapter: r.policy)
            reference = try ResponseTokenPass(model: r.base, rows: 1, seqLen: seqLen, padToken: 0, sharing: policy)
            critic = try ResponseTokenPass(model: r.base, rows: 1, seqLen: seqLen, padToken: 0, adapter: r.critic, logits: false, sharing: policy)
            let shared = policy.sequencePasses
            rewards = try r.rewards.map { try RewardScorer(model: r.base, seqLen: seqLen, padToken: 0, adapter: $0, sharing: shared) }
        }
    }

    /// Scores `rollouts` (of `texts`, prompt + response) by every role: the policy's and the
    /// reference's log-probabilities, the critic's values, helpfulness - safety as the score; returns
    /// the largest policy-reference log-probability difference.
    static func score(_ rollouts: inout [Rollout], texts: [[Int32]], _ passes: Passes, settings: PPOSettings) throws -> Float {
        let examples = rollouts.map(\.example)
        let scale = 1 / settings.sampling.temperature
        let lp = try passes.policy.logProbs(examples, logitScale: scale, entropies: true)
        let ref = try passes.reference.logProbs(examples, logitScale: scale, entropies: false)
        let values = try passes.critic.values(examples)
        let scores = try passes.rewards.map { try $0.scores(texts) }
        var difference: Float = 0
        for i in rollouts.indices {
            rollouts[i].logProbs = lp[i].logProbs
            rollouts[i].referenceLogProbs = ref[i].logProbs
            rollouts[i].values = values[i]
            rollouts[i].score = Double(scores[0][i] - scores[1][i])
            for (a, b) in zip(lp[i].logProbs, ref[i].logProbs) { difference = max(difference, abs(a - b)) }
        }
        return difference
    }

    /// The frozen base (random, std 0.02, no gradient arena) and the four adapters on it: the policy
    /// (fresh), the critic (value head), two reward models (reward heads, B drawn N(0, 0.02), frozen).
    static func roles(_ config: LlamaConfig, lora: LoRASettings, seed: UInt64) throws -> Roles {
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
        return Roles(base: base, policy: policy, critic: critic, rewards: rewards)
    }
}
