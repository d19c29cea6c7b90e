// What `bench ppo` and `bench rl` share: the five models of an RL iteration loaded from one source (a
// policy and its reference, a critic, two reward models), random prompts, a share of the vocabulary
// that stops a sequence (so lengths vary), the continuous-batching generator, rollouts made from the
// decoded sequences, the scoring passes of the stage (ResponseTokenPass, RewardScorer), and phase 3
// as the stage runs it (PPOLoop.trainer, PPOOptimisation.optimise). Sampling runs at the stage's
// default temperature (PPOParameters' `temperature`).
import Foundation
import PlumbData
import PlumbFiles
import PlumbModel
import PlumbTensor

struct BenchRollouts {
    let config: LlamaConfig
    /// The source's tensors, to put the policy back to its starting weights.
    let tensors: [String: Tensor]
    let description: String
    let policy: LlamaModel, reference: LlamaModel, critic: LlamaModel
    let requests: [GenerationRequest]
    let stops: Set<Int32>
    /// The rollout's generator (`slots` sequences at once) and the anchor's (every sequence at once).
    let generator: Generator, anchorGenerator: Generator
    let policyPass: ResponseTokenPass, referencePass: ResponseTokenPass, criticPass: ResponseTokenPass
    let rewardModels: [RewardScorer]
    let promptLength: Int, seqLen: Int
    static let temperature: Float = PPOParameters().sampling.temperature

    /// `prompts` random prompts of `promptLength` tokens (drawn from `seed` + 7), `samples` responses
    /// each, of at most `newTokens`, decoded `slots` at a time (nil: all at once).
    init(model base: LlamaModel, description: String, seed: UInt64, prompts: Int, samples: Int, promptLength: Int, newTokens: Int,
         stopShare: Double, rows: Int, slots: Int? = nil) throws {
        let seqLen = promptLength + newTokens
        (self.seqLen, self.promptLength, self.description) = (seqLen, promptLength, description)
        config = base.config.with(maxSeqLen: max(base.config.maxSeqLen, seqLen + 1))
        tensors = try base.tensors()
        let (config, tensors) = (config, tensors)
        func model(_ heads: LlamaHeads, seed: UInt64) throws -> LlamaModel {
            let m = try LlamaModel(config: config, heads: heads, seed: seed)
            try m.load(tensors, source: description, allowMissingHeads: true)
            return m
        }
        (policy, reference, critic) = (try model(.lm, seed: seed), try model(.lm, seed: seed), try model(.value, seed: 5))
        var rng = SeededRNG(seed: seed &+ 7)
        requests = (0..<prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<promptLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }, samples: samples, seed: UInt64(p))
        }
        stops = Self.stopTokens(config, share: stopShare)
        anchorGenerator = try Generator(config: config, weights: policy.weights, maxSequences: prompts * samples, capacity: seqLen)
        if let slots, slots != prompts * samples {
            generator = try Generator(config: config, weights: policy.weights, maxSequences: slots, capacity: seqLen)
        } else {
            generator = anchorGenerator
        }
        policyPass = try ResponseTokenPass(model: policy, rows: rows, seqLen: seqLen, padToken: 0)
        referencePass = try ResponseTokenPass(model: reference, rows: rows, seqLen: seqLen, padToken: 0)
        criticPass = try ResponseTokenPass(model: critic, rows: rows, seqLen: seqLen, padToken: 0)
        rewardModels = try (0..<2).map { try RewardScorer(model: try model(.reward, seed: 11 + UInt64($0)), seqLen: seqLen + 1, padToken: 0) }
    }

    /// The last `share` of the vocabulary (at least one token): the tokens that stop a sequence.
    static func stopTokens(_ config: LlamaConfig, share: Double) -> Set<Int32> {
        Set((0..<max(1, Int(Double(config.vocabSize) * share))).map { Int32(config.vocabSize - 1 - $0) })
    }

    /// Every request's responses, in (request, sample) order, through the rollout's generator; `stopping`
    /// false runs each to `newTokens` with every sequence at once (the anchor, `bench sample`'s computation).
    func decode(newTokens: Int, stopping: Bool = true) throws -> [GeneratedSequence] {
        let sampling = Sampling.random(temperature: Self.temperature, topK: 0, topP: 1)
        var out: [GeneratedSequence] = []
        try (stopping ? generator : anchorGenerator)
            .stream(requests, options: GenerationOptions(maxNewTokens: newTokens, sampling: sampling, stopTokens: stopping ? stops : [])) { out.append($0) }
        return out.sorted { ($0.request, $0.sample) < ($1.request, $1.sample) }
    }

    func rollouts(_ sequences: [GeneratedSequence]) throws -> [Rollout] {
        try sequences.map { s in
            let example = try ResponseLikelihood.example(TokenizedExample(tokens: requests[s.request].prompt + s.tokens, promptCount: promptLength),
                                                         seqLen: seqLen)
            return Rollout(promptID: "\(s.request)", safetyPrompt: false, example: example, response: s.tokens, text: "", finished: true)
        }
    }

    /// The iteration's scoring as the stage does it: the policy's and the reference's log-probabilities,
    /// the critic's values when asked for, both reward models; scores -1, 0, 1 in turn stand in for
    /// the combined reward.
    func score(_ rollouts: inout [Rollout], sequences: [GeneratedSequence], critic withCritic: Bool) throws {
        let examples = rollouts.map(\.example)
        let lp = try policyPass.logProbs(examples, logitScale: 1 / Self.temperature, entropies: true)
        let ref = try referencePass.logProbs(examples, logitScale: 1 / Self.temperature, entropies: false)
        let values = withCritic ? try criticPass.values(examples) : nil
        for scorer in rewardModels { _ = try scorer.scores(sequences.map { requests[$0.request].prompt + $0.tokens }) }
        for i in rollouts.indices {
            rollouts[i].logProbs = lp[i].logProbs
            rollouts[i].referenceLogProbs = ref[i].logProbs
            rollouts[i].values = values?[i] ?? []
            rollouts[i].score = Double(i % 3) - 1
        }
    }

    /// Phase 3 of iteration 0 as the stage runs it: the stage's Trainer over `update`'s models
    /// (PPOLoop.trainer), PPOOptimisation.optimise with the non-finite guard; seconds and the steps.
    static func optimise(_ rollouts: [Rollout], update: PPOUpdate, settings: PPOSettings) throws -> (seconds: Double, steps: PPOOptimisation.Steps) {
        let checkpoints = FileManager.default.temporaryDirectory.appendingPathComponent("bench-rl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: checkpoints) }
        let trainer = try PPOLoop.trainer(update, settings: settings, totalSteps: settings.stepsPerIteration, checkpoints: checkpoints)
        var guardRail = NonFiniteGuard(limit: settings.maxConsecutiveNonFinite)
        let start = monotonicSeconds()
        let steps = try PPOOptimisation.optimise(rollouts, iteration: 0, settings: settings, update: update, trainer: trainer,
                                                 guardRail: &guardRail, checkpoints: checkpoints)
        return (monotonicSeconds() - start, steps)
    }
}
