// One response sampled in a PPO iteration and what the iteration computes about it. Per-token arrays
// are indexed by the response's tokens t = 0..<T (its end-of-sequence token included when it
// finished); they line up with the target positions of `example` (prompt + response, the response's
// tokens as targets: ResponseLikelihood.example).
//
//   r_t = -beta * KL_t            for t < T - 1
//   r_T-1 = -beta * KL_T-1 + score    score = WHITEN(LOGIT(R_c)), or the missing-EOS score
import PlumbData
import PlumbTensor

public struct Rollout: Sendable {
    public var promptID: String
    public var safetyPrompt: Bool
    public var example: BatchLayout.Example
    public var response: [Int32]
    public var text: String
    public var finished: Bool
    /// lp_old: log pi_theta(y_t | ...) at the rollout, at the sampling temperature.
    public var logProbs: [Float] = []
    /// log pi_0(y_t | ...) under the reference, at the same temperature.
    public var referenceLogProbs: [Float] = []
    /// V(s_t) of the critic at the rollout (the state that predicts y_t).
    public var values: [Float] = []
    /// Entropy of the policy's distribution at each response position, summed.
    public var entropy: Double = 0
    public var helpfulness: Float = 0
    public var safety: Float = 0
    public var combined: CombinedReward.Value? = nil
    public var score: Double = 0
    public var kl: [Double] = []
    public var advantages: [Double] = []
    public var returns: [Double] = []

    public init(promptID: String, safetyPrompt: Bool, example: BatchLayout.Example, response: [Int32], text: String, finished: Bool) {
        self.promptID = promptID; self.safetyPrompt = safetyPrompt; self.example = example
        self.response = response; self.text = text; self.finished = finished
    }

    /// Response tokens (the loss units of PPO's means).
    public var tokenCount: Int { response.count }

    /// Per-token rewards: the KL penalty everywhere, the score added on the last token.
    public func rewards(beta: Double) -> [Double] {
        var r = kl.map { -beta * $0 }
        if !r.isEmpty { r[r.count - 1] += score }
        return r
    }

    /// Fills `kl`, `advantages` (not yet whitened) and `returns`.
    public mutating func computeAdvantages(beta: Double, estimator: KLEstimator, gamma: Double, lambda: Double) {
        kl = zip(logProbs, referenceLogProbs).map { estimator.estimate(policy: Double($0), reference: Double($1)) }
        let gae = Advantages.gae(rewards: rewards(beta: beta), values: values.map(Double.init), gamma: gamma, lambda: lambda)
        advantages = gae.advantages
        returns = gae.returns
    }
}

extension Array where Element == Rollout {
    /// Each rollout's KL, advantages and returns, then the advantages whitened over every response
    /// token of the batch.
    public mutating func computeAdvantages(beta: Double, estimator: KLEstimator, gamma: Double, lambda: Double) {
        for i in indices { self[i].computeAdvantages(beta: beta, estimator: estimator, gamma: gamma, lambda: lambda) }
        let whitened = Advantages.whiten(map(\.advantages))
        for i in indices { self[i].advantages = whitened[i] }
    }
}
