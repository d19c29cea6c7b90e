// What `bench ppo` and `bench rl` share: the five models of an RL iteration loaded from one source (a
// policy and its reference, a critic, two reward models), random prompts, a share of the vocabulary
// that stops a sequence (so lengths vary), the continuous-batching generator, rollouts made from the
// decoded sequences, and the scoring passes of the stage (ResponseTokenPass, RewardScorer).
import Foundation
import PlumbData
import PlumbModel
import PlumbStages
import PlumbTensor

struct BenchRollouts {
    let config: LlamaConfig
    /// The source's tensors, to put the policy back to its starting weights.
    let tensors: [String: Tensor]
    let policy: LlamaModel, reference: LlamaModel, critic: LlamaModel
    let requests: [GenerationRequest]
    let stops: Set<Int32>
    /// The rollout's generator (`slots` sequences at once) and the anchor's (every sequence at once).
    let generator: Generator, anchorGenerator: Generator
    let policyPass: ResponseTokenPass, referencePass: ResponseTokenPass, criticPass: ResponseTokenPass
    let rewardModels: [RewardScorer]
    let promptLength: Int, seqLen: Int
    static let temperature: Float = 0.7

    /// `prompts` random prompts of `promptLength` tokens, `samples` responses each, of at most `newTokens`,
    /// decoded `slots` at a time (nil: all at once).
    init(source: ModelSourceOptions, prompts: Int, samples: Int, promptLength: Int, newTokens: Int, stopShare: Double, rows: Int,
         slots: Int? = nil) throws {
        let base = try source.load()
        let seqLen = promptLength + newTokens
        (self.seqLen, self.promptLength) = (seqLen, promptLength)
        config = base.config.with(maxSeqLen: max(base.config.maxSeqLen, seqLen + 1))
        tensors = try base.tensors()
        let (config, tensors) = (config, tensors)
        func model(_ heads: LlamaHeads, seed: UInt64) throws -> LlamaModel {
            let m = try LlamaModel(config: config, heads: heads, seed: seed)
            try m.load(tensors, source: source.description, allowMissingHeads: true)
            return m
        }
        (policy, reference, critic) = (try model(.lm, seed: source.seed), try model(.lm, seed: source.seed), try model(.value, seed: 5))
        var rng = SeededRNG(seed: source.seed &+ 7)
        requests = (0..<prompts).map { p in
            GenerationRequest(prompt: [1] + (1..<promptLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }, samples: samples, seed: UInt64(p))
        }
        stops = Set((0..<max(1, Int(Double(config.vocabSize) * stopShare))).map { Int32(config.vocabSize - 1 - $0) })
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

    /// Every request's responses, in (request, sample) order, through the rollout's generator; `stopping`
    /// false runs each to `newTokens` with every sequence at once (the anchor, `bench sample`'s computation).
    func decode(newTokens: Int, stopping: Bool = true) throws -> [GeneratedSequence] {
        let sampling = Sampling.random(temperature: Self.temperature, topK: 0, topP: 1)
        var out: [GeneratedSequence] = []
        try (stopping ? generator : anchorGenerator)
            .stream(requests, options: GenerationOptions(maxNewTokens: newTokens, sampling: sampling, stopTokens: stopping ? stops : [])) { out.append($0) }
        return out.sorted { ($0.request, $0.sample) < ($1.request, $1.sample) }
    }

    /// The last decode's time split as JSON fields named `prefix_...`.
    static func statsFields(_ prefix: String, _ stats: GenerationStats) -> [String: Any] {
        [prefix + "_prefill_seconds": stats.prefillSeconds, prefix + "_decode_seconds": stats.decodeSeconds,
         prefix + "_decode_steps": stats.decodeSteps, prefix + "_mean_rows_per_step": Double(stats.decodedRows) / Double(max(1, stats.decodeSteps)),
         prefix + "_seconds_per_step": stats.decodeSeconds / Double(max(1, stats.decodeSteps))]
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
}
