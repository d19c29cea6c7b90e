// The critic-free estimators' advantages (RLEstimation.swift has each one's equation and source), in
// Double. The batch is in prompt order, each prompt's k responses adjacent: response i of group g is
// element g * k + i.
import Foundation

public enum GroupAdvantages {
    /// RLOO: A_i = R_i - (sum_j R_j - R_i) / (k - 1), per group of `groupSize` consecutive returns.
    public static func leaveOneOut(_ returns: [Double], groupSize k: Int) -> [Double] {
        precondition(k >= 2 && returns.count % k == 0, "leaveOneOut: groups of at least 2 that divide the batch")
        var out = [Double](repeating: 0, count: returns.count)
        for g in stride(from: 0, to: returns.count, by: k) {
            let sum = returns[g..<(g + k)].reduce(0, +)
            for i in g..<(g + k) { out[i] = returns[i] - (sum - returns[i]) / Double(k - 1) }
        }
        return out
    }

    /// GRPO: A_i = (R_i - mean) / (std + 1e-4) with the unbiased group std, or R_i - mean unscaled.
    public static func groupNormalised(_ returns: [Double], groupSize k: Int, scale: Bool) -> [Double] {
        precondition(k >= 2 && returns.count % k == 0, "groupNormalised: groups of at least 2 that divide the batch")
        var out = [Double](repeating: 0, count: returns.count)
        for g in stride(from: 0, to: returns.count, by: k) {
            let group = returns[g..<(g + k)]
            let mean = group.reduce(0, +) / Double(k)
            let std = (group.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(k - 1)).squareRoot()
            for i in g..<(g + k) { out[i] = scale ? (returns[i] - mean) / (std + 1e-4) : returns[i] - mean }
        }
        return out
    }

    /// REINFORCE++: per response, the return to go of its per-token rewards (GAE with no values,
    /// gamma and lambda 1), then whitened over every token of the batch.
    public static func reinforcePlusPlus(_ rewards: [[Double]]) -> [[Double]] {
        let togo = rewards.map { r in Advantages.gae(rewards: r, values: [Double](repeating: 0, count: r.count), gamma: 1, lambda: 1).advantages }
        return Advantages.whiten(togo)
    }
}

extension Array where Element == Rollout {
    /// Each rollout's KL and the estimator's advantages (no returns: there is no critic to regress).
    /// `beta` is the reward's KL coefficient (0 when the KL is in the loss).
    public mutating func computeCriticFreeAdvantages(_ estimation: RLEstimation, beta: Double, klEstimator: KLEstimator) {
        for i in indices {
            self[i].kl = zip(self[i].logProbs, self[i].referenceLogProbs).map { klEstimator.estimate(policy: Double($0), reference: Double($1)) }
            self[i].returns = []
        }
        let sequenceReturns = map { $0.rewards(beta: beta).reduce(0, +) + ($0.tokenCount == 0 ? $0.score : 0) }
        let perResponse: [Double]
        switch estimation.estimator {
        case .ppo:
            preconditionFailure("computeCriticFreeAdvantages: PPO's advantages come from GAE over the critic's values")
        case .rloo:
            perResponse = GroupAdvantages.leaveOneOut(sequenceReturns, groupSize: estimation.groupSize)
        case .grpo:
            perResponse = GroupAdvantages.groupNormalised(sequenceReturns, groupSize: estimation.groupSize, scale: estimation.scaleRewards)
        case .reinforcePlusPlus:
            let advantages = GroupAdvantages.reinforcePlusPlus(map { $0.rewards(beta: beta) })
            for i in indices { self[i].advantages = advantages[i] }
            return
        }
        for i in indices { self[i].advantages = [Double](repeating: perResponse[i], count: self[i].tokenCount) }
    }
}
