// Kahneman-Tversky optimisation over unpaired examples, each labelled desirable (D) or undesirable
// (U) (../shared/docs/METHODS.md section 12; Ethayarajh et al. 2024, eq. 8; TRL's KTOTrainer):
//
//   r_i = log pi(y_i|x_i) - log ref(y_i|x_i)                     the implicit reward (sums over response tokens)
//   z0  = max(0, mean_j [log pi(y'_j|x_j) - log ref(y'_j|x_j)])   the reference point: a KL estimate from
//                                                                 mismatched pairs (x_j, y'_j), not differentiated
//   L   = 1/n sum_i  lambda_D (1 - s(beta (r_i - z0)))   for D
//                    lambda_U (1 - s(beta (z0 - r_i)))   for U
//   dL/dr_i = -lambda_D beta s'(beta (r_i - z0)) / n    for D,   +lambda_U beta s'(beta (z0 - r_i)) / n   for U
//
//   + rpo * 1/n sum_{i in D} -log pi(y_i|x_i) / |y_i|   an NLL term on desirable responses, per token, as DPO's
//                                                    RPO (Pang et al. 2024); 0 by default (TRL has none).
//     It keeps the desirable responses likely: without it both rewards fall and mass leaves the data.
//
// with s' = s (1 - s). TRL's defaults: beta 0.1, lambda_D = lambda_U = 1, and lambda_D n_D /
// (lambda_U n_U) kept in [1, 4/3] (`weightBalance`).
import Foundation

/// A stage's option group: its keys are `beta`, `desirable-weight`, `undesirable-weight` and `rpo`.
public struct KTOLoss: ParameterGroup, Equatable {
    public var beta: Double = 0.1
    /// lambda_D and lambda_U.
    public var desirableWeight: Double = 1
    public var undesirableWeight: Double = 1
    /// Weight of the per-token NLL term on desirable responses; 0 turns it off.
    public var rpo: Double = 0

    public init(beta: Double = 0.1, desirableWeight: Double = 1, undesirableWeight: Double = 1, rpo: Double = 0) {
        self.beta = beta; self.desirableWeight = desirableWeight; self.undesirableWeight = undesirableWeight; self.rpo = rpo
    }

    /// Throws `StageParameterError` naming the key of a coefficient out of range.
    public func validate() throws {
        guard beta > 0 else { throw StageParameterError("beta", "kto: beta must be positive; got \(beta)") }
        guard desirableWeight > 0 else { throw StageParameterError("desirable-weight", "kto: the desirable weight must be positive; got \(desirableWeight)") }
        guard undesirableWeight > 0 else {
            throw StageParameterError("undesirable-weight", "kto: the undesirable weight must be positive; got \(undesirableWeight)")
        }
        guard rpo >= 0 else { throw StageParameterError("rpo", "kto: the RPO weight must be at least 0; got \(rpo)") }
    }

    /// lambda_D n_D / (lambda_U n_U), which the KTO paper keeps in [1, 4/3], and a notice when it is outside.
    public func weightBalance(desirable nD: Int, undesirable nU: Int) -> (ratio: Double, notice: String?) {
        guard nU > 0 else { return (.infinity, "kto: no undesirable examples; the loss only raises desirable rewards") }
        let ratio = desirableWeight * Double(nD) / (undesirableWeight * Double(nU))
        guard ratio < 1 || ratio > 4.0 / 3 else { return (ratio, nil) }
        return (ratio, String(format: "kto: lambda_D n_D / (lambda_U n_U) = %.3f with %d desirable and %d undesirable examples; the KTO paper keeps it in [1, 4/3] (set the weights to balance it)", ratio, nD, nU))
    }

    /// One example: its log-probability sums under the policy and the reference, its label, and its
    /// response's token count (for the NLL term).
    public struct Example: Equatable, Sendable {
        public var policy: Double
        public var reference: Double
        public var desirable: Bool
        public var tokens: Int
        public init(policy: Double, reference: Double, desirable: Bool, tokens: Int = 1) {
            self.policy = policy; self.reference = reference; self.desirable = desirable; self.tokens = tokens
        }
    }

    public struct Value: Equatable, Sendable {
        /// The mean loss over the examples.
        public var loss: Double
        /// dL / d log pi(y_i|x_i), one per example.
        public var dPolicy: [Double]
        /// The reference point z0.
        public var kl: Double
        /// beta r_i of each example (TRL's `rewards/chosen` are the desirable ones, `rewards/rejected` the others).
        public var rewards: [Double]
    }

    /// The loss over `examples` with the reference point from `mismatched` pairs' log-probability
    /// sums (policy, reference); an empty `mismatched` gives z0 = 0.
    public func evaluate(_ examples: [Example], mismatched: [(policy: Double, reference: Double)]) -> Value {
        let kl = mismatched.isEmpty ? 0 : max(0, mismatched.reduce(0) { $0 + ($1.policy - $1.reference) } / Double(mismatched.count))
        let n = Double(max(examples.count, 1))
        var loss = 0.0
        var dPolicy = [Double](repeating: 0, count: examples.count), rewards = dPolicy
        for (i, e) in examples.enumerated() {
            let r = e.policy - e.reference
            rewards[i] = beta * r
            if e.desirable {
                let s = sigmoid(beta * (r - kl))
                loss += desirableWeight * (1 - s) - rpo * e.policy / Double(max(e.tokens, 1))
                dPolicy[i] = (-desirableWeight * beta * s * (1 - s) - rpo / Double(max(e.tokens, 1))) / n
            } else {
                let s = sigmoid(beta * (kl - r))
                loss += undesirableWeight * (1 - s)
                dPolicy[i] = undesirableWeight * beta * s * (1 - s) / n
            }
        }
        return Value(loss: loss / n, dPolicy: dPolicy, kl: kl, rewards: rewards)
    }

    func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
}
