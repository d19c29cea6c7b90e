// The KL to the reference as a term of the loss (`kl-in: loss`, GRPO's form: Shao et al. 2024, eq. 3
// and 4; TRL's GRPOTrainer), per response token with lp = log pi_theta, lp0 = log pi_0 at the sampled
// token and the estimators of KLPenalty.swift:
//
//   L_kl = beta * KL(lp, lp0)
//   k1:  KL = lp - lp0                          dKL/dlp = 1
//   k3:  KL = exp(lp0 - lp) - (lp0 - lp) - 1    dKL/dlp = 1 - exp(lp0 - lp)
//
// added to the clipped surrogate of each token before the mean over the mini-batch's tokens.
import Foundation

public struct LossKL: Equatable, Sendable {
    public var estimator: KLEstimator
    public var beta: Double

    public init(estimator: KLEstimator, beta: Double) { self.estimator = estimator; self.beta = beta }

    /// (beta * KL, beta * dKL/dlp) at one token.
    public func term(policy lp: Double, reference lp0: Double) -> (loss: Double, dLogProb: Double) {
        let kl = estimator.estimate(policy: lp, reference: lp0)
        switch estimator {
        case .k1: return (beta * kl, beta)
        case .k3: return (beta * kl, beta * (1 - exp(lp0 - lp)))
        }
    }
}
