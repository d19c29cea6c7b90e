// The experience of one PPO iteration (METHODS.md sections 4 and 7): sample a response per prompt
// from the current policy (continuous batching), score each with both reward models and combine them
// by the safety-gated rule, LOGIT and WHITEN; then, through the training forward pass, the policy's
// and the reference's log-probabilities of the sampled tokens (logits / T, as sampled) and the
// critic's values; per-token rewards -beta * KL_t plus the score on the last token; GAE; advantages
// whitened over every response token of the iteration. The critic-free estimators (RLEstimation)
// sample `groupSize` responses per prompt, skip the critic, and take their advantages from
// GroupAdvantages.
//
// Which prompts an iteration takes, and each response's sampling seed, are functions of (seed,
// iteration): a resumed run samples the same responses without any saved data position.
// Distributed: the ranks share the decoding out by prompt (`respondSharded`) and each gets every
// response; the scoring and the forward passes then run on every rank over the whole batch, so
// every rank holds the same rollouts (the same bits: same inputs, same kernels).
import Foundation
import PlumbData
import PlumbModel
import PlumbTensor

/// Running sums of the combined logit over every response so far (`--whitening running`).
public struct RunningWhitening: Equatable, Sendable {
    public var sum = 0.0, sumOfSquares = 0.0, count = 0
    public init(sum: Double = 0, sumOfSquares: Double = 0, count: Int = 0) {
        self.sum = sum; self.sumOfSquares = sumOfSquares; self.count = count
    }
    mutating func add(_ x: Double) { sum += x; sumOfSquares += x * x; count += 1 }
}

final class PPORollouts {
    let settings: PPOSettings
    let prompts: [PromptRecord]
    let sampler: PolicySampler
    let policy: ResponseTokenPass
    let reference: ResponseTokenPass
    let critic: ResponseTokenPass?
    let scorer: ResponseScorer
    let estimation: RLEstimation
    /// The gate's threshold, and the whitening when it is fixed.
    let reward: CombinedReward

    init(settings: PPOSettings, prompts: [PromptRecord], sampler: PolicySampler, policy: ResponseTokenPass, reference: ResponseTokenPass,
         critic: ResponseTokenPass?, scorer: ResponseScorer, reward: CombinedReward, estimation: RLEstimation = .ppo) {
        precondition((critic != nil) == estimation.estimator.needsCritic, "PPORollouts: a critic exactly when the estimator needs one")
        self.settings = settings; self.prompts = prompts; self.sampler = sampler; self.policy = policy
        self.reference = reference; self.critic = critic; self.scorer = scorer; self.reward = reward; self.estimation = estimation
    }

    struct Timing { var rollout = 0.0, scoring = 0.0 }

    /// The prompts of iteration `iteration` (0-based): the next `promptsPerIteration` of a sequence
    /// of seeded shuffles of the prompt set, one shuffle per pass.
    static func promptIndices(iteration: Int, perIteration: Int, count: Int, seed: UInt64) -> [Int] {
        var orders: [Int: [Int]] = [:]
        return (iteration * perIteration..<(iteration + 1) * perIteration).map { k in
            let pass = k / count
            if orders[pass] == nil {
                var order = Array(0..<count)
                var rng = SeededRNG(seed: seed ^ (0xA076_1D64_78BD_642F &* UInt64(pass + 1)))
                order.shuffle(using: &rng)
                orders[pass] = order
            }
            return orders[pass]![k % count]
        }
    }

    /// The sampling seed of a prompt's response in `iteration`.
    static func seed(_ seed: UInt64, iteration: Int, promptID: String) -> UInt64 {
        PolicySampler.seed(seed &+ 0xD6E8_FEB8_6659_FD93 &* UInt64(iteration + 1), promptID: promptID)
    }

    /// Samples, scores and prepares iteration `iteration`'s rollouts (prompt order, each prompt's
    /// `groupSize` responses adjacent); `running` gains their combined logits when the whitening is running.
    func collect(iteration: Int, beta: Double, running: inout RunningWhitening) throws -> (rollouts: [Rollout], timing: Timing) {
        var timing = Timing()
        let chosen = Self.promptIndices(iteration: iteration, perIteration: settings.promptsPerIteration, count: prompts.count, seed: settings.seed)
            .map { prompts[$0] }
        var clock = monotonicNow()
        let responses = try sampler.respondSharded(to: chosen.map(\.prompt.messages), samples: estimation.groupSize, settings: settings.sampling,
                                            seeds: chosen.map { Self.seed(settings.seed, iteration: iteration, promptID: $0.prompt.id) })
        timing.rollout = monotonicNow() - clock
        clock = monotonicNow()
        // Prompt + response tokens of each response: the training examples and the reward models' input.
        let flat = zip(chosen, responses).flatMap { p, group in group.map { (p, $0) } }
        let sequences = flat.map { TokenizedExample(tokens: $0.1.promptTokens + $0.1.tokens, promptCount: $0.1.promptTokens.count) }
        var rollouts: [Rollout] = []
        for ((p, r), sequence) in zip(flat, sequences) {
            rollouts.append(Rollout(promptID: p.prompt.id, safetyPrompt: SampleRanking.isSafetyPrompt(p.prompt),
                                    example: try ResponseLikelihood.example(sequence, seqLen: policy.seqLen),
                                    response: r.tokens, text: r.text, finished: r.finished))
        }
        let scale = 1 / settings.sampling.temperature
        let examples = rollouts.map(\.example)
        let policyLogProbs = try policy.logProbs(examples, logitScale: scale, entropies: true)
        let referenceLogProbs = try reference.logProbs(examples, logitScale: scale, entropies: false)
        let values = try critic?.values(examples)
        let scores = try scorer.scores(sequences)
        var combined = reward
        if settings.whitening == .running {
            for (r, s) in zip(rollouts, scores) {
                running.add(Double(reward.combine(helpfulness: s.helpfulness, safety: s.safety, safetyPrompt: r.safetyPrompt).logit))
            }
            combined.whitening = try Whitening(sum: running.sum, sumOfSquares: running.sumOfSquares, count: running.count)
        }
        for i in rollouts.indices {
            rollouts[i].logProbs = policyLogProbs[i].logProbs
            rollouts[i].entropy = policyLogProbs[i].entropy.reduce(0) { $0 + Double($1) }
            rollouts[i].referenceLogProbs = referenceLogProbs[i].logProbs
            rollouts[i].values = values?[i] ?? []
            rollouts[i].helpfulness = scores[i].helpfulness
            rollouts[i].safety = scores[i].safety
            let value = combined.combine(helpfulness: scores[i].helpfulness, safety: scores[i].safety, safetyPrompt: rollouts[i].safetyPrompt)
            rollouts[i].combined = value
            rollouts[i].score = Double(combined.whitened(value.logit))
            if !rollouts[i].finished, let missing = settings.missingEOSScore { rollouts[i].score = missing }
        }
        Self.computeAdvantages(&rollouts, estimation: estimation, beta: beta, settings: settings)
        timing.scoring = monotonicNow() - clock
        return (rollouts, timing)
    }

    /// Scored rollouts' per-token advantages: GAE over the critic's values (the ppo estimator), or the
    /// estimator's critic-free baseline with the KL in the reward at `beta` (or none when it is in the loss).
    static func computeAdvantages(_ rollouts: inout [Rollout], estimation: RLEstimation, beta: Double, settings: PPOSettings) {
        if estimation.estimator.needsCritic {
            rollouts.computeAdvantages(beta: beta, estimator: settings.klEstimator, gamma: settings.gamma, lambda: settings.lambda)
        } else {
            rollouts.computeCriticFreeAdvantages(estimation, beta: estimation.rewardBeta(beta), klEstimator: settings.klEstimator)
        }
    }
}
