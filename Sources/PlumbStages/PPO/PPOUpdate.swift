// One PPO optimiser step's gradients: a mini-batch of rollouts, cut into micro-batches that each fit
// `rows` x `seqLen`, each micro-batch weighted by its response tokens (the loss is a mean over the
// mini-batch's response tokens, PPOLoss). Per micro-batch:
//
//   policy:  forward, logits / T, lp_t at the response tokens; dL/dlp_t = scale * dL_pg/dlp / u
//            through tokenLogProbsBackward (with the 1/T factor) and the trunk
//   critic:  forward, v_t at the same positions; dL/dv_t = scale * c_vf * dL_vf/dv / u
//            through valueBackward and the critic's trunk
//
// with u the micro-batch's response tokens and scale = u / (the mini-batch's response tokens).
// Without a critic (the critic-free estimators) only the policy's pass runs; with `lossKL` each
// token's loss gains beta * KL(lp, lp0) (LossKL, the reference's log-probabilities of the rollout).
// Distributed: every rank holds the whole mini-batch and cuts it into the same micro-batches; rank r
// runs the micro-batches j ≡ r (mod N), and the figures are summed over the ranks (the Trainer sums
// the gradients).
import PlumbModel
import PlumbTensor

public final class PPOUpdate {
    let policy: ResponseTokenPass
    let critic: ResponseTokenPass?
    let loss: PPOLoss
    /// The KL term of the loss (`kl-in: loss`), its beta set before each iteration's steps; nil: none.
    var lossKL: LossKL?
    let logitScale: Float
    let world: any Communicator

    public init(policy: ResponseTokenPass, critic: ResponseTokenPass?, loss: PPOLoss, lossKL: LossKL? = nil, temperature: Float,
                world: any Communicator = Distributed.world) {
        self.policy = policy; self.critic = critic; self.loss = loss; self.lossKL = lossKL
        logitScale = 1 / temperature
        self.world = world
    }

    /// The update an RL stage runs: PPO's clipped loss of `settings`, the KL in the loss (at
    /// `settings.beta`, the controller's beta set per iteration) when `estimation` puts it there, the
    /// sampling temperature's logit scale.
    public convenience init(policy: ResponseTokenPass, critic: ResponseTokenPass?, settings: PPOSettings, estimation: RLEstimation) {
        self.init(policy: policy, critic: critic, loss: settings.loss,
                  lossKL: estimation.klIn == .loss ? LossKL(estimator: settings.klEstimator, beta: settings.beta) : nil,
                  temperature: settings.sampling.temperature)
    }

    /// Sums over response tokens of the figures TRL reports for an update.
    public struct Figures {
        var tokens = 0
        var policyLoss = 0.0, valueLoss = 0.0, klLoss = 0.0, clipped = 0.0, valueClipped = 0.0, approxKL = 0.0, ratio = 0.0
        var ratioSquares = 0.0

        mutating func add(_ o: Figures) {
            tokens += o.tokens; policyLoss += o.policyLoss; valueLoss += o.valueLoss; klLoss += o.klLoss; clipped += o.clipped
            valueClipped += o.valueClipped; approxKL += o.approxKL; ratio += o.ratio; ratioSquares += o.ratioSquares
        }

        var sums: [Double] { [Double(tokens), policyLoss, valueLoss, klLoss, clipped, valueClipped, approxKL, ratio, ratioSquares] }
        init() {}
        init(sums s: [Double]) {
            tokens = Int(s[0]); policyLoss = s[1]; valueLoss = s[2]; klLoss = s[3]; clipped = s[4]; valueClipped = s[5]
            approxKL = s[6]; ratio = s[7]; ratioSquares = s[8]
        }

        /// The mini-batch's loss: mean (L_pg + L_kl) + c_vf * mean L_vf.
        public func loss(valueCoefficient: Double) -> Double {
            let n = Double(max(tokens, 1))
            return (policyLoss + klLoss) / n + valueCoefficient * valueLoss / n
        }

        /// Means over the update's response tokens, with TRL's names (`_avg`: means over tokens;
        /// val/ratio, val/ratio_var: the policy ratio's mean and variance).
        func metrics(critic: Bool) -> [String: Double] {
            let n = Double(max(tokens, 1))
            var out = ["loss/policy_avg": policyLoss / n, "policy/clipfrac_avg": clipped / n, "policy/approxkl_avg": approxKL / n,
                       "val/ratio": ratio / n, "val/ratio_var": max(ratioSquares / n - (ratio / n) * (ratio / n), 0)]
            if critic { out["loss/value_avg"] = valueLoss / n; out["val/clipfrac_avg"] = valueClipped / n }
            if klLoss != 0 { out["loss/kl_avg"] = klLoss / n }
            return out
        }
    }

    /// The micro-batches of a mini-batch: consecutive runs of `indices` that fit one batch.
    public func microBatches(_ rollouts: [Rollout], indices: [Int]) -> [[Int]] {
        policy.batches(indices.map { rollouts[$0].example }).map { Array(indices[$0]) }
    }

    /// Adds the gradients of the mini-batch `indices`'s loss into both models' gradient arenas.
    public func accumulate(_ rollouts: [Rollout], indices: [Int]) throws -> Figures {
        let total = indices.reduce(0) { $0 + rollouts[$1].tokenCount }
        var figures = Figures()
        let all = microBatches(rollouts, indices: indices)
        for group in Sharding.indices(count: all.count, rank: world.rank, size: world.size).map({ all[$0] }) {
            let units = group.reduce(0) { $0 + rollouts[$1].tokenCount }
            guard units > 0 else { continue }
            // Each token's gradient is d(mean over the mini-batch's tokens) = 1 / total.
            let perToken = 1 / Double(total)
            let examples = group.map { rollouts[$0].example }

            let (policyLayout, policyPositions) = try policy.forward(examples)
            try policy.model.scaleLogits(policy.activations, by: logitScale)
            let lp = try policy.model.tokenLogProbs(policy.activations)
            let dLogProbs = Tensor(zeros: [policyLayout.tokenCount])
            for (j, i) in group.enumerated() {
                let r = rollouts[i]
                for (t, n) in policyPositions[j].enumerated() {
                    let term = loss.policy(logProb: Double(lp.pointer[n]), oldLogProb: Double(r.logProbs[t]), advantage: r.advantages[t])
                    var dLogProb = term.dLogProb
                    if let lossKL {
                        let kl = lossKL.term(policy: Double(lp.pointer[n]), reference: Double(r.referenceLogProbs[t]))
                        dLogProb += kl.dLogProb
                        figures.klLoss += kl.loss
                    }
                    dLogProbs.pointer[n] = Float(dLogProb * perToken)
                    figures.policyLoss += term.loss
                    figures.clipped += term.clipped ? 1 : 0
                    figures.approxKL += term.approxKL
                    figures.ratio += term.ratio
                    figures.ratioSquares += term.ratio * term.ratio
                }
            }
            try policy.model.tokenLogProbsBackward(policy.activations, dLogProbs: dLogProbs, logitScale: logitScale)
            try policy.model.backward(policy.activations)
            figures.tokens += units
            guard let critic else { continue }

            let (criticLayout, criticPositions) = try critic.forward(examples)
            let v = try critic.model.valueForward(critic.activations)
            let dValues = Tensor(zeros: [criticLayout.tokenCount])
            for (j, i) in group.enumerated() {
                let r = rollouts[i]
                for (t, n) in criticPositions[j].enumerated() {
                    let term = loss.value(Double(v.pointer[n]), oldValue: Double(r.values[t]), target: r.returns[t])
                    dValues.pointer[n] = Float(loss.valueCoefficient * term.dValue * perToken)
                    figures.valueLoss += term.loss
                    figures.valueClipped += term.clipped ? 1 : 0
                }
            }
            try critic.model.valueBackward(critic.activations, dValues: dValues)
            try critic.model.backward(critic.activations)
        }
        guard world.size > 1 else { return figures }
        return Figures(sums: try world.allreduceSum(figures.sums))
    }
}
