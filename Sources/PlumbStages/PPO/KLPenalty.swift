// The KL penalty of RLHF's per-token reward, r_t = -beta * KL_t (+ the score on the last token), with
// the estimators of Schulman's "Approximating KL divergence" on the sampled tokens, lp = log pi_theta,
// lp0 = log pi_0 (the reference):
//
//   k1 = lp - lp0                          unbiased, can be negative per token
//   k3 = (rho - 1) - log rho, rho = exp(lp0 - lp)   unbiased, never negative, lower variance
//
// and the adaptive controller of Ziegler et al. 2019 (TRL's AdaptiveKLController): after each
// iteration, with KL the mean summed KL per response,
//
//   e    = clip(KL / target - 1, -0.2, 0.2)
//   beta = beta * (1 + e * n / horizon)      (n the iteration's responses)
import Foundation

public enum KLEstimator: String, Codable, CaseIterable, Sendable {
    case k1, k3

    /// The estimate at one token from the policy's and the reference's log-probabilities.
    public func estimate(policy lp: Double, reference lp0: Double) -> Double {
        switch self {
        case .k1: return lp - lp0
        case .k3:
            let logRho = lp0 - lp
            return (exp(logRho) - 1) - logRho
        }
    }
}

public struct KLController: Codable, Equatable, Sendable {
    /// The current coefficient beta.
    public var beta: Double
    /// Adapt towards this mean summed KL per response; nil keeps beta fixed.
    public var target: Double?
    public var horizon: Double

    public init(beta: Double, target: Double? = nil, horizon: Double = 10_000) {
        self.beta = beta; self.target = target; self.horizon = horizon
    }

    /// Moves beta after an iteration of `responses` responses whose mean summed KL was `kl`.
    public mutating func update(kl: Double, responses: Int) {
        guard let target, target > 0, kl.isFinite else { return }
        let error = min(max(kl / target - 1, -0.2), 0.2)
        beta *= 1 + error * Double(responses) / horizon
    }
}
