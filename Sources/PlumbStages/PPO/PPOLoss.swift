// PPO's per-token losses (Schulman et al. 2017; TRL's PPOTrainer; ../shared/docs/METHODS.md section 7).
// For a response token with new log-probability lp, rollout log-probability lp_old, whitened
// advantage A, new value v, rollout value v_old and return R:
//
//   rho   = exp(lp - lp_old)
//   L_pg  = max(-A * rho, -A * clip(rho, 1 - eps, 1 + eps))          clipped surrogate (to minimise)
//   v_c   = v_old + clip(v - v_old, -eps_v, eps_v)
//   L_vf  = 0.5 * max((v - R)^2, (v_c - R)^2)                         clipped value loss
//   loss  = mean_t L_pg + c_vf * mean_t L_vf                          (means over the batch's response tokens)
//
// Gradients: dL_pg/dlp = -A * rho where the unclipped term is the max (or both are equal), else 0;
// dL_vf/dv = (v - R) where the unclipped term is the max, else 0 (the clipped value is constant in v
// once clipped). Also reported per token: the clip indicators and 0.5 * (lp - lp_old)^2 (approxkl).
import Foundation

public struct PPOLoss: Codable, Equatable, Sendable {
    /// eps: the policy ratio's clip range (TRL, Llama 2: 0.2).
    public var clip: Double
    /// eps_v: the value's clip range around the rollout value (TRL: 0.2).
    public var valueClip: Double
    /// c_vf (TRL: 0.1).
    public var valueCoefficient: Double

    public init(clip: Double = 0.2, valueClip: Double = 0.2, valueCoefficient: Double = 0.1) {
        self.clip = clip; self.valueClip = valueClip; self.valueCoefficient = valueCoefficient
    }

    public func validate() throws {
        guard clip > 0, clip.isFinite else { throw StageError("ppo: the clip range must be positive; got \(clip)") }
        guard valueClip > 0, valueClip.isFinite else { throw StageError("ppo: the value clip range must be positive; got \(valueClip)") }
        guard valueCoefficient >= 0, valueCoefficient.isFinite else { throw StageError("ppo: the value coefficient must be >= 0; got \(valueCoefficient)") }
    }

    public struct PolicyTerm: Equatable, Sendable {
        public var loss: Double
        /// dL_pg / dlp.
        public var dLogProb: Double
        /// The clipped term was the larger (TRL's pg_clipfrac counts these).
        public var clipped: Bool
        /// 0.5 * (lp - lp_old)^2.
        public var approxKL: Double
        public var ratio: Double
    }

    public func policy(logProb lp: Double, oldLogProb: Double, advantage a: Double) -> PolicyTerm {
        let ratio = exp(lp - oldLogProb)
        let unclipped = -a * ratio
        let clippedLoss = -a * min(max(ratio, 1 - clip), 1 + clip)
        let useClipped = clippedLoss > unclipped
        return PolicyTerm(loss: max(unclipped, clippedLoss), dLogProb: useClipped ? 0 : -a * ratio, clipped: useClipped,
                          approxKL: 0.5 * (lp - oldLogProb) * (lp - oldLogProb), ratio: ratio)
    }

    public struct ValueTerm: Equatable, Sendable {
        public var loss: Double
        /// dL_vf / dv.
        public var dValue: Double
        /// The clipped term was the larger (TRL's val/clipfrac).
        public var clipped: Bool
    }

    public func value(_ v: Double, oldValue: Double, target: Double) -> ValueTerm {
        let vClipped = oldValue + min(max(v - oldValue, -valueClip), valueClip)
        let unclipped = (v - target) * (v - target)
        let clippedLoss = (vClipped - target) * (vClipped - target)
        let useClipped = clippedLoss > unclipped
        return ValueTerm(loss: 0.5 * max(unclipped, clippedLoss), dValue: useClipped ? 0 : v - target, clipped: useClipped)
    }
}
