// How an RL stage turns an iteration's scored responses into per-token advantages, and where its KL
// term goes. `ppo` is PPO as `plumb ppo` runs it (a critic, GAE); the others need no critic.
//
// Notation: prompt p has a group of k responses y_1..y_k (`groupSize`); s_i is response i's score
// (the safety-gated, logit-transformed, whitened combined reward, or the missing-EOS score);
// KL_{i,t} the per-token KL estimate (k1 or k3, KLPenalty.swift) of token t of y_i; beta the KL
// coefficient. With the KL in the reward (`kl-in: reward`) a response's return is
//   R_i = s_i - beta * sum_t KL_{i,t};
// with the KL in the loss (`kl-in: loss`) R_i = s_i and the loss gains beta * KL_t per token (RLLoss).
public enum RLEstimator: String, Codable, CaseIterable, Sendable {
    /// PPO with a critic and GAE (PPORollouts, Advantages.gae).
    case ppo
    /// RLOO (Ahmadian et al. 2024, "Back to Basics", eq. 5; Kool et al. 2019): each response's
    /// baseline is the mean return of the other k - 1 responses to its prompt,
    ///   A_i = R_i - 1/(k-1) * sum_{j != i} R_j,
    /// the same advantage at every token of y_i.
    case rloo
    /// GRPO (Shao et al. 2024, DeepSeekMath, section 4.1.2, outcome supervision): the group-normalised return,
    ///   A_i = (R_i - mean_j R_j) / (std_j R_j + 1e-4)      (std: the unbiased group standard deviation, as TRL)
    /// or, with `scale-rewards false` (Liu et al. 2025, Dr. GRPO), A_i = R_i - mean_j R_j; the same
    /// advantage at every token of y_i.
    case grpo
    /// REINFORCE++ (Hu 2025, section 3): per-token rewards r_t = -beta * KL_t (+ s_i on the last
    /// token), the return to go G_t = sum_{t' >= t} r_t', then normalised over every response token
    /// of the batch (global batch normalisation): A_t = (G_t - mean) / (std + 1e-8).
    case reinforcePlusPlus = "reinforce++"

    public var needsCritic: Bool { self == .ppo }
    /// Needs at least two responses per prompt for its baseline.
    public var needsGroups: Bool { self == .rloo || self == .grpo }
}

/// Where the KL to the reference enters: the reward (InstructGPT, RLOO, REINFORCE++) or the loss (GRPO).
public enum KLPlacement: String, Codable, CaseIterable, Sendable {
    case reward, loss
}

/// An RL stage's estimator settings beside PPOSettings; `.ppo` is plain PPO.
public struct RLEstimation: Codable, Equatable, Sendable {
    public var estimator: RLEstimator
    /// k: responses sampled per prompt (each from its own seed).
    public var groupSize: Int
    public var klIn: KLPlacement
    /// GRPO divides by the group's standard deviation (false: Dr. GRPO).
    public var scaleRewards: Bool

    public init(estimator: RLEstimator = .ppo, groupSize: Int = 1, klIn: KLPlacement = .reward, scaleRewards: Bool = true) {
        self.estimator = estimator; self.groupSize = groupSize; self.klIn = klIn; self.scaleRewards = scaleRewards
    }

    public static let ppo = RLEstimation()

    /// The KL coefficient of the per-token reward: beta, or 0 when the KL is in the loss.
    public func rewardBeta(_ beta: Double) -> Double { klIn == .reward ? beta : 0 }
}
